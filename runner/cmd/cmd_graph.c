/* cmd_graph.c — `streamrun graph`: deployments, topics and operators as Graphviz dot or Mermaid. */
#include "cmd/cli.h"
#include "load/topology.h"

#include <stdio.h>
#include <string.h>

static void dot_id(FILE *out, const char *prefix, const char *name)
{
    fprintf(out, "\"%s:", prefix);
    for (const char *p = name; *p; p++) {
        if (*p == '"' || *p == '\\') fputc('\\', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

/* Mermaid ids must be plain words. */
static void mm_id(FILE *out, const char *prefix, const char *name)
{
    fprintf(out, "%s_", prefix);
    for (const char *p = name; *p; p++)
        fputc((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
                  ? *p
                  : '_',
              out);
}

static void each_written(const sr_deployment *d, const sr_topology *t,
                         void (*fn)(FILE *, const sr_deployment *, const sr_topic *, bool dl),
                         FILE *out)
{
    for (int i = 0; i < t->ntopics; i++) {
        const sr_topic *tp = t->topics[i];
        bool w = false;
        for (int k = 0; k < d->noutputs; k++) w |= d->outputs[k] == tp;
        for (int k = 0; k < d->nops; k++)
            w |= d->ops[k].type->writes && d->ops[k].type->writes(&d->ops[k], tp);
        if (w) fn(out, d, tp, false);
        if (d->dead_letter == tp) fn(out, d, tp, true);
    }
}

static void dot_edge(FILE *out, const sr_deployment *d, const sr_topic *tp, bool dl)
{
    fputs("  ", out);
    dot_id(out, "d", d->name);
    fputs(" -> ", out);
    dot_id(out, "t", tp->name);
    fputs(dl ? " [style=dashed, label=\"dead letter\"];\n" : ";\n", out);
}

static void mm_edge(FILE *out, const sr_deployment *d, const sr_topic *tp, bool dl)
{
    fputs("  ", out);
    mm_id(out, "d", d->name);
    fputs(dl ? " -. dead letter .-> " : " --> ", out);
    mm_id(out, "t", tp->name);
    fputc('\n', out);
}

/* The steps, numbered as written (a later stage of a split deployment starts after the re-key). */
static void steps(FILE *out, const sr_deployment *d, const char *sep)
{
    for (int k = 0; k < d->nops; k++)
        fprintf(out, "%s%d. %s", sep, d->ops[k].index ? d->ops[k].index : k + 1,
                d->ops[k].type->name);
}

static void graph_dot(FILE *out, const sr_topology *t)
{
    fprintf(out, "digraph \"%s\" {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n", t->name);
    for (int i = 0; i < t->ntopics; i++) {
        fputs("  ", out);
        dot_id(out, "t", t->topics[i]->name);
        fprintf(out, " [shape=cylinder, %slabel=\"%s\\n%s%d partition%s\"];\n",
                t->topics[i]->internal ? "style=dashed, " : "", t->topics[i]->name,
                t->topics[i]->internal ? "repartition, " : "", t->topics[i]->partitions,
                t->topics[i]->partitions == 1 ? "" : "s");
    }
    for (int i = 0; i < t->ndeps; i++) {
        const sr_deployment *d = &t->deps[i];
        fputs("  ", out);
        dot_id(out, "d", d->name);
        fprintf(out, " [shape=box, style=rounded, label=\"%s", d->name);
        steps(out, d, "\\l");
        fputs(d->nops ? "\\l\"];\n" : "\"];\n", out);
        if (d->source) {
            fputs("  ", out);
            dot_id(out, "f", d->source->path);
            fprintf(out, " [shape=note, label=\"%s\"];\n  ", d->source->path);
            dot_id(out, "f", d->source->path);
            fputs(" -> ", out);
            dot_id(out, "d", d->name);
            fputs(";\n", out);
        }
        for (int k = 0; k < d->ninputs; k++) {
            fputs("  ", out);
            dot_id(out, "t", d->inputs[k]->name);
            fputs(" -> ", out);
            dot_id(out, "d", d->name);
            fputs(";\n", out);
        }
        each_written(d, t, dot_edge, out);
    }
    fputs("}\n", out);
}

static void graph_mermaid(FILE *out, const sr_topology *t)
{
    fputs("flowchart LR\n", out);
    for (int i = 0; i < t->ntopics; i++) {
        fputs("  ", out);
        mm_id(out, "t", t->topics[i]->name);
        if (t->topics[i]->internal)
            fprintf(out, "[(\"%s<br/>repartition, %d partition%s\")]\n", t->topics[i]->name,
                    t->topics[i]->partitions, t->topics[i]->partitions == 1 ? "" : "s");
        else
            fprintf(out, "[(\"%s\")]\n", t->topics[i]->name);
    }
    for (int i = 0; i < t->ndeps; i++) {
        const sr_deployment *d = &t->deps[i];
        fputs("  ", out);
        mm_id(out, "d", d->name);
        fprintf(out, "[\"%s", d->name);
        steps(out, d, "<br/>");
        fputs("\"]\n", out);
        if (d->source) {
            fputs("  ", out);
            mm_id(out, "f", d->name);
            fprintf(out, "[/\"%s\"/] --> ", d->source->path);
            mm_id(out, "d", d->name);
            fputc('\n', out);
        }
        for (int k = 0; k < d->ninputs; k++) {
            fputs("  ", out);
            mm_id(out, "t", d->inputs[k]->name);
            fputs(" --> ", out);
            mm_id(out, "d", d->name);
            fputc('\n', out);
        }
        each_written(d, t, mm_edge, out);
    }
}

int sr_cmd_graph(int argc, char **argv)
{
    const char *file = NULL, *format = "dot";
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = sr_cli_value(argc, argv, &i, "--format")))
            format = v;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "streamrun graph: unknown option '%s'\n", argv[i]);
            return SR_EXIT_USAGE;
        } else
            file = argv[i];
    }
    if (!file || (strcmp(format, "dot") != 0 && strcmp(format, "mermaid") != 0)) {
        fprintf(stderr, "usage: streamrun graph FILE [--format dot|mermaid]\n");
        return SR_EXIT_USAGE;
    }
    if (!sr_cli_file_arg("graph", file)) return SR_EXIT_USAGE;
    sr_topology *t = sr_cli_load(file, false);
    if (!t) return SR_EXIT_INVALID;
    if (strcmp(format, "dot") == 0)
        graph_dot(stdout, t);
    else
        graph_mermaid(stdout, t);
    sr_topology_free(t);
    return SR_EXIT_OK;
}
