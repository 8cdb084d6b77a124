/* libyaml.h — includes libyaml's <yaml.h>, which runner/yaml.h shadows on the include path. */
/* Include this as <libyaml.h>: found through the runner/ include directory, #include_next then
 * goes on to the directories after it and reaches the system's yaml.h. */
#pragma GCC system_header
#include_next <yaml.h>
