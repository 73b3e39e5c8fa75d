#include "sim_scenario.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "log.h"
#include "sim_command.h"

struct scenario_step {
    uint64_t at_ms;
    char *command;
    size_t line; /* in the file, for messages */
};

struct sim_scenario {
    struct sim *sim;
    char *path;
    struct scenario_step *steps;
    size_t step_count;
    size_t next;
    struct sim_timer timer;
};

struct parse {
    const char *path;
    yaml_document_t document;
    char *error;
    size_t error_size;
};

static int parse_error(struct parse *parse, const yaml_node_t *node, const char *what)
{
    snprintf(parse->error, parse->error_size, "%s:%zu:%zu: %s", parse->path,
             node->start_mark.line + 1, node->start_mark.column + 1, what);
    return -1;
}

static const char *scalar(const yaml_node_t *node)
{
    return node != NULL && node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value
                                                          : NULL;
}

static int parse_at_ms(struct parse *parse, const yaml_node_t *node, uint64_t *at_ms)
{
    const char *text = scalar(node);
    char *end = NULL;
    errno = 0;
    unsigned long long value = text != NULL ? strtoull(text, &end, 0) : 0;
    if (text == NULL || *text == '-' || end == text || *end != '\0' || errno != 0)
        return parse_error(parse, node, "at_ms must be a whole number of milliseconds");
    *at_ms = value;
    return 0;
}

static int parse_step(struct parse *parse, yaml_node_t *node, struct scenario_step *step)
{
    if (node->type != YAML_MAPPING_NODE)
        return parse_error(parse, node, "a step is a map {at_ms: N, do: \"COMMAND\"}");
    bool have_at = false;
    step->line = node->start_mark.line + 1;
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node(&parse->document, pair->key);
        yaml_node_t *value = yaml_document_get_node(&parse->document, pair->value);
        const char *name = scalar(key);
        if (name != NULL && strcmp(name, "at_ms") == 0) {
            if (parse_at_ms(parse, value, &step->at_ms) != 0)
                return -1;
            have_at = true;
        } else if (name != NULL && strcmp(name, "do") == 0) {
            if (scalar(value) == NULL || !sim_command_known(scalar(value)))
                return parse_error(parse, value, "do must be a simulator command (see README)");
            free(step->command);
            step->command = strdup(scalar(value));
        } else {
            return parse_error(parse, key, "unknown key in a step (at_ms, do)");
        }
    }
    if (!have_at || step->command == NULL)
        return parse_error(parse, node, "a step needs both at_ms and do");
    return 0;
}

static int parse_steps(struct parse *parse, struct sim_scenario *scenario)
{
    yaml_node_t *root = yaml_document_get_root_node(&parse->document);
    if (root == NULL) {
        snprintf(parse->error, parse->error_size, "%s: empty scenario", parse->path);
        return -1;
    }
    if (root->type != YAML_SEQUENCE_NODE)
        return parse_error(parse, root, "a scenario is a list of steps");
    size_t count = (size_t)(root->data.sequence.items.top - root->data.sequence.items.start);
    scenario->steps = calloc(count + 1, sizeof *scenario->steps);
    if (scenario->steps == NULL)
        return parse_error(parse, root, "out of memory");
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item =
            yaml_document_get_node(&parse->document, root->data.sequence.items.start[i]);
        scenario->step_count++;
        if (parse_step(parse, item, &scenario->steps[i]) != 0)
            return -1;
    }
    return 0;
}

static int load(struct sim_scenario *scenario, const char *path, char *error, size_t error_size)
{
    struct parse parse = {.path = path, .error = error, .error_size = error_size};
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        snprintf(error, error_size, "scenario %s: %s", path, strerror(errno));
        return -1;
    }
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, file);
    int rc = -1;
    if (!yaml_parser_load(&parser, &parse.document)) {
        snprintf(error, error_size, "%s:%zu:%zu: %s", path, parser.problem_mark.line + 1,
                 parser.problem_mark.column + 1, parser.problem ? parser.problem : "bad YAML");
    } else {
        rc = parse_steps(&parse, scenario);
        yaml_document_delete(&parse.document);
    }
    yaml_parser_delete(&parser);
    fclose(file);
    return rc;
}

static int by_time(const void *a, const void *b)
{
    const struct scenario_step *x = a, *y = b;
    if (x->at_ms != y->at_ms)
        return x->at_ms < y->at_ms ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line; /* file order among equals */
}

static void arm_next(struct sim_scenario *scenario)
{
    if (scenario->next >= scenario->step_count)
        return;
    uint64_t due_ns = scenario->sim->start_ns + scenario->steps[scenario->next].at_ms * 1000000ULL;
    sim_loop_arm(&scenario->sim->loop, &scenario->timer, due_ns);
}

static void on_step_due(struct sim_timer *timer)
{
    struct sim_scenario *scenario = sim_container_of(timer, struct sim_scenario, timer);
    const struct scenario_step *step = &scenario->steps[scenario->next++];
    char reply[1024];
    int rc = sim_command_run(scenario->sim, step->command, reply, sizeof reply);
    log_msg(rc == 0 ? LOG_INFO : LOG_WARNING, "safetygw-sim: %s:%zu: at %llu ms: %s -> %s",
            scenario->path, step->line, (unsigned long long)step->at_ms, step->command, reply);
    arm_next(scenario);
}

int sim_scenario_open(struct sim *sim, const char *path, char *error, size_t error_size)
{
    struct sim_scenario *scenario = calloc(1, sizeof *scenario);
    if (scenario == NULL || (scenario->path = strdup(path)) == NULL) {
        free(scenario);
        snprintf(error, error_size, "scenario %s: out of memory", path);
        return -1;
    }
    sim->scenario = scenario;
    scenario->sim = sim;
    sim_timer_init(&scenario->timer, on_step_due);
    if (load(scenario, path, error, error_size) != 0)
        return -1;
    qsort(scenario->steps, scenario->step_count, sizeof *scenario->steps, by_time);
    log_info("safetygw-sim: scenario %s: %zu steps", path, scenario->step_count);
    arm_next(scenario);
    return 0;
}

void sim_scenario_close(struct sim *sim)
{
    struct sim_scenario *scenario = sim->scenario;
    if (scenario == NULL)
        return;
    sim_loop_disarm(&sim->loop, &scenario->timer);
    for (size_t i = 0; i < scenario->step_count; i++)
        free(scenario->steps[i].command);
    free(scenario->steps);
    free(scenario->path);
    free(scenario);
    sim->scenario = NULL;
}
