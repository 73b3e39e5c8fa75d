/*
 * fuzz_control.c — the control socket's request handling
 * (gateway/control_answer.c and the JSON it builds with control_json.c) on
 * arbitrary request lines.
 *
 * control_answer() parses the request (JSON, "cmd", the keys each command
 * takes, filters) and answers from snapshots of a runtime. Here the runtime is
 * real but never started: runtime_prepare() builds its plans and devices from
 * a small configuration of the shipped profiles, and each bus is given only
 * what snapshots read (its definition and lock), no thread and no Modbus
 * context. Devices are put in every state (ok with values, alarm, offline,
 * fault, unknown) so that every answer has something to say. MQTT is not
 * connected (publish_connected() false, nothing queued).
 *
 * The input is cut as control.c cuts what a client sends: up to the first
 * newline, without trailing CR/LF. Checked: every answer is one JSON object
 * with a boolean "ok", and a refusal carries an "error" string.
 */
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "control_answer.h"
#include "fuzz_support.h"
#include "runtime.h"

static const char *const gateway_yaml =
    "gateway: { id: fuzz-gw, site: lab, state_dir: @FOLDER@/state,\n"
    "           control_socket: @FOLDER@/control.sock }\n"
    "mqtt: { uri: \"tcp://127.0.0.1:1883\" }\n"
    "profiles: [ @PROFILES@ ]\n"
    "buses:\n"
    "  - { name: bldg-12, type: rtu, port: @FOLDER@/tty, baud: 9600 }\n"
    "  - { name: bldg-14, type: tcp, host: 127.0.0.1, port: 1502 }\n"
    "devices:\n"
    "  - { id: gas-1, profile: gas-alarm, bus: bldg-12, address: 1,\n"
    "      location: { building: \"12\", room: \"101\" } }\n"
    "  - { id: gas-2, profile: gas-alarm, bus: bldg-12, address: 2,\n"
    "      overrides: { gas_low: { above: 12, clear_below: 10 } } }\n"
    "  - { id: lift-1, profile: elevator, bus: bldg-14, address: 31 }\n"
    "  - { id: ebike-1, profile: ebike-charger-10, bus: bldg-14, address: 20 }\n"
    "  - { id: ebike-2, profile: ebike-charger-10, bus: bldg-14, address: 21 }\n";

static struct config *config;
static struct runtime runtime;
static struct control_answer *answer;

/* Raises rule r of device: active, raised a while ago, with the value that raised it. */
static void raise_rule(struct device *device, size_t r, uint64_t wall_ms)
{
    FUZZ_CHECK(r < device->def->rule_count);
    device->rule_states[r].active = true;
    device->rule_states[r].value = 30;
    device->raised_wall_ms[r] = wall_ms;
    device->active_alarm_count++;
}

static size_t rule_named(const struct device *device, const char *name)
{
    int index = config_rule_index(device->def, name);
    FUZZ_CHECK(index >= 0);
    return (size_t)index;
}

/* ok, alarm (a value rule and a bit rule), offline, fault, unknown: one device each. */
static void set_device_states(void)
{
    const uint64_t wall_ms = 1795000000000ULL;
    for (size_t d = 0; d < config->device_count; d++) {
        struct device *device = &runtime.devices[d];
        for (size_t p = 0; p < device->def->profile->point_count; p++)
            device->values[p] = p % 7 == 3 ? NAN : (double)p * 1.5;
        device->stats.polls_ok = 100 + d;
        device->stats.last_seen_wall_ms = wall_ms;
        device->stats.last_latency_us = 21400;
        device->stats.latency_total_us = 2090000;
    }
    struct device *ok = &runtime.devices[0], *alarm = &runtime.devices[1];
    struct device *offline = &runtime.devices[2], *fault = &runtime.devices[3];
    ok->link = alarm->link = fault->link = DEVICE_ONLINE;
    ok->values_valid = alarm->values_valid = fault->values_valid = true;
    raise_rule(alarm, 0, wall_ms - 5000);
    for (size_t r = 0; r < alarm->def->rule_count; r++)
        if (alarm->def->rules[r].bit >= 0) {
            raise_rule(alarm, r, wall_ms - 9000); /* "point":"status.<bit>", no unit */
            break;
        }
    offline->link = DEVICE_OFFLINE;
    offline->failed_in_row = 3;
    offline->stats.polls_failed = 3;
    size_t offline_rule = rule_named(offline, "offline");
    raise_rule(offline, offline_rule, wall_ms - 1000);
    offline->rule_states[offline_rule].failed_polls = 3;
    fault->failed_in_row = 1;
    fault->stats.polls_failed = 1;
    fault->stats.exceptions = 1;
    fault->stats.last_exception_code = 2;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    config = fuzz_load_config("gateway.yaml", gateway_yaml);
    FUZZ_CHECK(runtime_prepare(&runtime, config) == 0); /* buses too, without their threads */
    set_device_states();
    answer = control_answer_new(&runtime, 1795000000000ULL - 3600000);
    FUZZ_CHECK(answer != NULL);
    return 0;
}

static void check_response(const char *text)
{
    FUZZ_CHECK(text != NULL);
    json_error_t error;
    json_t *root = json_loads(text, 0, &error);
    FUZZ_CHECK(root != NULL && json_is_object(root));
    json_t *ok = json_object_get(root, "ok");
    FUZZ_CHECK(json_is_boolean(ok));
    if (!json_is_true(ok))
        FUZZ_CHECK(json_is_string(json_object_get(root, "error")));
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A line within the first CONTROL_MAX_REQUEST bytes, or all of a shorter input (the
     * client shut its side); anything else control.c refuses without answering. */
    const char *request = (const char *)data;
    size_t window = size < CONTROL_MAX_REQUEST ? size : CONTROL_MAX_REQUEST;
    const char *newline = memchr(request, '\n', window);
    if (newline == NULL && size > CONTROL_MAX_REQUEST)
        return 0;
    size_t length = newline ? (size_t)(newline - request) : size;
    while (length > 0 && (request[length - 1] == '\r' || request[length - 1] == '\n'))
        length--;
    char *response = control_answer(answer, request, length);
    check_response(response);
    free(response);
    return 0;
}
