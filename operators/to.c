/* to.c — writes records to a topic; the end of a pipeline. */
#include "load/expr.h"

struct to {
    sr_topic *topic;
};

static const sr_param to_params[] = {
    {SR_P_TOPIC, "topic", NULL, offsetof(struct to, topic), "the topic to write", SR_PF_REQUIRED},
    {0}};

static int to_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct to *o = op->conf;
    return sr_task_output(t, op, o->topic, r);
}

static bool to_writes(const sr_op *op, const sr_topic *topic)
{
    const struct to *o = op->conf;
    return o->topic == topic;
}

const sr_operator_type sr_op_to = {
    .name = "to",
    .summary = "write records to a topic (the same as the deployment's output:)",
    .example = "- to: table-data",
    .params = to_params,
    .primary = "topic",
    .conf_size = sizeof(struct to),
    .flags = SR_OP_TERMINAL,
    .process = to_process,
    .writes = to_writes,
};
