#include "sim_command.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sim_kind.h"

#define MAX_WORDS 6
#define LINE_MAX_BYTES 1024

struct words {
    char buffer[LINE_MAX_BYTES];
    char *word[MAX_WORDS];
    int count;
};

struct reply {
    char *text;
    size_t size;
};

static int ok(struct reply *reply, const char *format, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct reply *reply, const char *format, ...) __attribute__((format(printf, 2, 3)));

static int ok(struct reply *reply, const char *format, ...)
{
    int used = snprintf(reply->text, reply->size, "ok");
    if (format[0] != '\0' && (size_t)used + 1 < reply->size) {
        reply->text[used++] = ' ';
        va_list args;
        va_start(args, format);
        vsnprintf(reply->text + used, reply->size - (size_t)used, format, args);
        va_end(args);
    }
    return 0;
}

static int fail(struct reply *reply, const char *format, ...)
{
    int used = snprintf(reply->text, reply->size, "error: ");
    va_list args;
    va_start(args, format);
    vsnprintf(reply->text + used, reply->size - (size_t)used, format, args);
    va_end(args);
    return -1;
}

static int split(const char *line, struct words *words)
{
    snprintf(words->buffer, sizeof words->buffer, "%s", line);
    words->count = 0;
    char *save = NULL;
    for (char *word = strtok_r(words->buffer, " \t\r\n", &save); word != NULL;
         word = strtok_r(NULL, " \t\r\n", &save)) {
        if (words->count == MAX_WORDS)
            return -1;
        words->word[words->count++] = word;
    }
    return 0;
}

static struct sim_device *device_or_fail(struct sim *sim, const char *id, struct reply *reply)
{
    struct sim_device *device = sim_find_device(sim, id);
    if (device == NULL)
        fail(reply, "no device %s in %s", id, sim->config->path);
    else
        sim_device_advance(device, sim_step_now(sim));
    return device;
}

static int point_or_fail(struct sim_device *device, const char *name, int *point, int *bit,
                         struct reply *reply)
{
    if (sim_device_resolve(device, name, point, bit) == 0)
        return 0;
    return fail(reply, "device %s (profile %s) has no point %s", device->def->id,
                device->profile->name, name);
}

static int parse_number(const char *text, double *value)
{
    char *end = NULL;
    errno = 0;
    *value = strtod(text, &end);
    return errno == 0 && end != text && *end == '\0' ? 0 : -1;
}

/* set DEVICE POINT VALUE */
static int command_set(struct sim *sim, struct words *w, struct reply *reply)
{
    if (w->count != 4)
        return fail(reply, "usage: set DEVICE POINT VALUE");
    struct sim_device *device = device_or_fail(sim, w->word[1], reply);
    int point, bit;
    double value;
    if (device == NULL || point_or_fail(device, w->word[2], &point, &bit, reply) != 0)
        return -1;
    if (parse_number(w->word[3], &value) != 0)
        return fail(reply, "%s is not a number", w->word[3]);
    if (bit >= 0 && value != 0 && value != 1)
        return fail(reply, "bit %s takes 0 or 1, not %s", w->word[2], w->word[3]);
    int rc = bit >= 0 ? sim_device_force_bit(device, point, bit, (int)value)
                      : sim_device_force(device, point, value);
    if (rc != 0)
        return fail(reply, "%s does not fit point %s of %s", w->word[3], w->word[2],
                    device->def->id);
    device->kind->written(device, device->profile->points[point].table,
                          device->profile->points[point].address, 1);
    return ok(reply, "%s %s = %s (pinned until calm)", device->def->id, w->word[2], w->word[3]);
}

/* get DEVICE POINT */
static int command_get(struct sim *sim, struct words *w, struct reply *reply)
{
    if (w->count != 3)
        return fail(reply, "usage: get DEVICE POINT");
    struct sim_device *device = device_or_fail(sim, w->word[1], reply);
    int point, bit;
    if (device == NULL || point_or_fail(device, w->word[2], &point, &bit, reply) != 0)
        return -1;
    if (bit >= 0)
        return ok(reply, "%d", sim_device_bit(device, point, bit));
    return ok(reply, "%.10g", sim_device_value(device, point));
}

/* hazard DEVICE gas_leak|trapped|port_overheat PORT|smoke */
static int command_hazard(struct sim *sim, struct words *w, struct reply *reply)
{
    if (w->count < 3 || w->count > 4)
        return fail(reply, "usage: hazard DEVICE gas_leak|trapped|port_overheat PORT|smoke");
    struct sim_device *device = device_or_fail(sim, w->word[1], reply);
    if (device == NULL)
        return -1;
    char why[256];
    if (device->kind->hazard(device, w->word[2], w->count == 4 ? w->word[3] : NULL, why,
                             sizeof why) != 0)
        return fail(reply, "%s", why);
    log_info("safetygw-sim: hazard %s on %s", w->word[2], device->def->id);
    return ok(reply, "%s %s", device->def->id, w->word[2]);
}

/* calm DEVICE */
static int command_calm(struct sim *sim, struct words *w, struct reply *reply)
{
    if (w->count != 2)
        return fail(reply, "usage: calm DEVICE");
    struct sim_device *device = device_or_fail(sim, w->word[1], reply);
    if (device == NULL)
        return -1;
    sim_device_unpin_all(device);
    device->kind->calm(device);
    return ok(reply, "%s calm", device->def->id);
}

static int parse_fault(const struct words *w, enum sim_fault *fault, int *code)
{
    static const char *const names[] = {"none", "silent", "bad_crc", "slow", "exception"};
    *code = MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE;
    for (int i = 1; i < (int)(sizeof names / sizeof names[0]); i++)
        if (strcmp(w->word[2], names[i]) == 0)
            *fault = (enum sim_fault)i;
    if (*fault == SIM_FAULT_NONE)
        return -1;
    if (w->count == 4) {
        char *end = NULL;
        long value = strtol(w->word[3], &end, 0);
        if (*fault != SIM_FAULT_EXCEPTION || *end != '\0' || value < 1 ||
            value >= MODBUS_EXCEPTION_MAX)
            return -1;
        *code = (int)value;
    }
    return 0;
}

static int fault_bus(struct sim *sim, struct words *w, struct reply *reply, bool down)
{
    struct sim_bus *bus = sim_find_bus(sim, w->word[2]);
    if (bus == NULL)
        return fail(reply, "no bus %s in %s", w->word[2], sim->config->path);
    bus->down = down;
    log_info("safetygw-sim: bus %s %s", bus->def->name, down ? "down" : "healed");
    return ok(reply, "bus %s %s", bus->def->name, down ? "down" : "up");
}

/* fault DEVICE silent|bad_crc|slow|exception [CODE]  |  fault bus NAME down */
static int command_fault(struct sim *sim, struct words *w, struct reply *reply)
{
    if (w->count == 4 && strcmp(w->word[1], "bus") == 0 && strcmp(w->word[3], "down") == 0)
        return fault_bus(sim, w, reply, true);
    enum sim_fault fault = SIM_FAULT_NONE;
    int code;
    if (w->count < 3 || w->count > 4 || parse_fault(w, &fault, &code) != 0)
        return fail(reply, "usage: fault DEVICE silent|bad_crc|slow|exception [CODE 1-11] | "
                           "fault bus NAME down");
    struct sim_device *device = device_or_fail(sim, w->word[1], reply);
    if (device == NULL)
        return -1;
    device->fault = fault;
    device->fault_exception = (uint8_t)code;
    log_info("safetygw-sim: fault %s on %s", w->word[2], device->def->id);
    if (fault == SIM_FAULT_EXCEPTION)
        return ok(reply, "%s answers exception %d", device->def->id, code);
    return ok(reply, "%s %s", device->def->id, w->word[2]);
}

/* heal DEVICE  |  heal bus NAME */
static int command_heal(struct sim *sim, struct words *w, struct reply *reply)
{
    if (w->count == 3 && strcmp(w->word[1], "bus") == 0)
        return fault_bus(sim, w, reply, false);
    if (w->count != 2)
        return fail(reply, "usage: heal DEVICE | heal bus NAME");
    struct sim_device *device = device_or_fail(sim, w->word[1], reply);
    if (device == NULL)
        return -1;
    device->fault = SIM_FAULT_NONE;
    return ok(reply, "%s healed", device->def->id);
}

static size_t bus_counters(const struct sim_bus *bus, char *text, size_t size)
{
    int used =
        snprintf(text, size, "bus=%s served=%llu ignored=%llu bad_frames=%llu merged=%llu%s",
                 bus->def->name, (unsigned long long)bus->served_requests,
                 (unsigned long long)bus->ignored_requests, (unsigned long long)bus->bad_frames,
                 (unsigned long long)bus->merged, bus->down ? " down" : "");
    return used < 0 ? 0 : (size_t)used < size ? (size_t)used : size - 1;
}

/* counters [BUS|DEVICE] */
static int command_counters(struct sim *sim, struct words *w, struct reply *reply)
{
    if (w->count > 2)
        return fail(reply, "usage: counters [BUS|DEVICE]");
    char text[LINE_MAX_BYTES * 8] = "";
    size_t used = 0;
    if (w->count == 2) {
        struct sim_bus *bus = sim_find_bus(sim, w->word[1]);
        struct sim_device *device = bus == NULL ? sim_find_device(sim, w->word[1]) : NULL;
        if (bus != NULL)
            bus_counters(bus, text, sizeof text);
        else if (device != NULL)
            snprintf(text, sizeof text, "device=%s served=%llu ignored=%llu", device->def->id,
                     (unsigned long long)device->served, (unsigned long long)device->ignored);
        else
            return fail(reply, "no bus or device %s in %s", w->word[1], sim->config->path);
        return ok(reply, "%s", text);
    }
    for (size_t i = 0; i < sim->config->bus_count && used + 2 < sizeof text; i++) {
        if (!sim->buses[i].served)
            continue;
        if (used > 0)
            used += (size_t)snprintf(text + used, sizeof text - used, "; ");
        used += bus_counters(&sim->buses[i], text + used, sizeof text - used);
    }
    return ok(reply, "%s", text);
}

static int command_quit(struct sim *sim, struct words *w, struct reply *reply)
{
    (void)w;
    sim_loop_stop(&sim->loop);
    return ok(reply, "bye");
}

static int command_help(struct sim *sim, struct words *w, struct reply *reply)
{
    (void)sim, (void)w;
    return ok(reply, "commands: set DEVICE POINT VALUE | get DEVICE POINT | hazard DEVICE "
                     "gas_leak|trapped|port_overheat PORT|smoke | calm DEVICE | fault DEVICE "
                     "silent|bad_crc|slow|exception [CODE] | fault bus NAME down | heal DEVICE | "
                     "heal bus NAME | counters [BUS|DEVICE] | quit");
}

static const struct {
    const char *name;
    int (*run)(struct sim *sim, struct words *w, struct reply *reply);
} commands[] = {
    {"set", command_set},           {"get", command_get},     {"hazard", command_hazard},
    {"calm", command_calm},         {"fault", command_fault}, {"heal", command_heal},
    {"counters", command_counters}, {"quit", command_quit},   {"help", command_help},
};

bool sim_command_known(const char *line)
{
    struct words words;
    if (split(line, &words) != 0 || words.count == 0)
        return false;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(words.word[0], commands[i].name) == 0)
            return true;
    return false;
}

int sim_command_run(struct sim *sim, const char *line, char *reply_text, size_t reply_size)
{
    struct reply reply = {reply_text, reply_size};
    struct words words;
    if (split(line, &words) != 0)
        return fail(&reply, "too many words in: %s", line);
    if (words.count == 0)
        return fail(&reply, "empty command (try help)");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(words.word[0], commands[i].name) == 0)
            return commands[i].run(sim, &words, &reply);
    return fail(&reply, "unknown command %s (try help)", words.word[0]);
}
