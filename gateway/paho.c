/*
 * paho.c — opens the Paho build the configuration needs and resolves its
 * functions into the table of paho.h. Owns the table: written by paho_load on
 * the main thread before the uplink starts, read-only afterwards.
 */
#include "paho.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One row per member of struct paho: the symbol that fills it. */
static const struct {
    const char *symbol;
    size_t offset;
} functions[] = {
    {"MQTTAsync_createWithOptions", offsetof(struct paho, create_with_options)},
    {"MQTTAsync_setCallbacks", offsetof(struct paho, set_callbacks)},
    {"MQTTAsync_setConnected", offsetof(struct paho, set_connected)},
    {"MQTTAsync_connect", offsetof(struct paho, connect)},
    {"MQTTAsync_disconnect", offsetof(struct paho, disconnect)},
    {"MQTTAsync_isConnected", offsetof(struct paho, is_connected)},
    {"MQTTAsync_subscribe", offsetof(struct paho, subscribe)},
    {"MQTTAsync_sendMessage", offsetof(struct paho, send_message)},
    {"MQTTAsync_getPendingTokens", offsetof(struct paho, get_pending_tokens)},
    {"MQTTAsync_freeMessage", offsetof(struct paho, free_message)},
    {"MQTTAsync_free", offsetof(struct paho, free)},
    {"MQTTAsync_malloc", offsetof(struct paho, malloc)},
    {"MQTTAsync_destroy", offsetof(struct paho, destroy)},
    {"MQTTAsync_strerror", offsetof(struct paho, strerror)},
    {"MQTTAsync_setTraceLevel", offsetof(struct paho, set_trace_level)},
};

_Static_assert(sizeof(struct paho) ==
                   sizeof functions / sizeof functions[0] * sizeof(void (*)(void)),
               "every member of struct paho has its row in functions[]");

static struct paho table;
static const struct paho *loaded;

/*
 * Never dlclose'd: Paho's threads and its allocator's blocks outlive any one
 * caller. RTLD_NOW: a missing symbol of Paho's own shows here, not mid-run.
 */
int paho_open(const char *soname, char *error, size_t error_size)
{
    void *library = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        snprintf(error, error_size,
                 "cannot load the MQTT library %s (Paho, Debian package libpaho-mqtt1.3): %s",
                 soname, dlerror());
        return -1;
    }
    struct paho found;
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
        dlerror();
        void *address = dlsym(library, functions[i].symbol);
        if (!address) {
            const char *reason = dlerror();
            snprintf(error, error_size, "the MQTT library %s has no %s: %s", soname,
                     functions[i].symbol, reason ? reason : "the symbol is NULL");
            return -1;
        }
        /* POSIX (dlsym) makes a function pointer and a void * the same size and form. */
        memcpy((char *)&found + functions[i].offset, &address, sizeof address);
    }
    /*
     * Built without PAHO_HIGH_PERFORMANCE (Debian), Paho traces every function
     * it enters into a ring in memory, under a mutex, and formats a line for
     * every packet: its default level, TRACE_MINIMUM. Errors only here, unless
     * a developer asked for Paho's trace (MQTT_C_CLIENT_TRACE names where it
     * goes, MQTT_C_CLIENT_TRACE_LEVEL how much): then Paho's levels stand.
     */
    const char *trace_destination = getenv("MQTT_C_CLIENT_TRACE");
    if (!trace_destination || !*trace_destination)
        found.set_trace_level(MQTTASYNC_TRACE_ERROR);
    table = found;
    loaded = &table;
    return 0;
}

int paho_load(const struct mqtt_config *mqtt, char *error, size_t error_size)
{
    return paho_open(mqtt->tls_enabled ? PAHO_SONAME_TLS : PAHO_SONAME_PLAIN, error, error_size);
}

const struct paho *paho_api(void)
{
    return loaded;
}
