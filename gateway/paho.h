/*
 * paho.h — which build of Paho MQTTAsync the daemon runs, and the table of
 * its functions that publish.c and mqtt_store.c call.
 *
 * Debian ships Paho's MQTTAsync API twice: libpaho-mqtt3as, with TLS and so
 * with libssl and libcrypto, and libpaho-mqtt3a, without. Linked, the TLS
 * build maps OpenSSL into every daemon: about 2 MiB resident (libcrypto
 * 1.8 MiB, libssl 0.3 MiB measured), a third of a small gateway. So the daemon
 * links neither and opens one at start: the TLS build only when the
 * configuration's brokers are ssl:// (mqtt.tls_enabled), the plain one
 * otherwise. A reload cannot change the mqtt section (reload.c refuses it),
 * so the library chosen at start serves the process for its whole life; it is
 * never closed.
 *
 * paho_load runs on the main thread before the uplink thread starts (from
 * publish_start); afterwards the table is only read, from any thread.
 */
#ifndef SAFETYGW_PAHO_H
#define SAFETYGW_PAHO_H

#include <MQTTAsync.h>
#include <stddef.h>

#include "config.h"

/* The sonames, as Debian's libpaho-mqtt1.3 installs them. */
#define PAHO_SONAME_PLAIN "libpaho-mqtt3a.so.1"
#define PAHO_SONAME_TLS "libpaho-mqtt3as.so.1"

/* Paho's functions by their MQTTAsync.h prototypes, without the MQTTAsync_ prefix. */
struct paho {
    int (*create_with_options)(MQTTAsync *handle, const char *serverURI, const char *clientId,
                               int persistence_type, void *persistence_context,
                               MQTTAsync_createOptions *options);
    int (*set_callbacks)(MQTTAsync handle, void *context, MQTTAsync_connectionLost *cl,
                         MQTTAsync_messageArrived *ma, MQTTAsync_deliveryComplete *dc);
    int (*set_connected)(MQTTAsync handle, void *context, MQTTAsync_connected *co);
    int (*connect)(MQTTAsync handle, const MQTTAsync_connectOptions *options);
    int (*disconnect)(MQTTAsync handle, const MQTTAsync_disconnectOptions *options);
    int (*is_connected)(MQTTAsync handle);
    int (*subscribe)(MQTTAsync handle, const char *topic, int qos,
                     MQTTAsync_responseOptions *response);
    int (*send_message)(MQTTAsync handle, const char *destinationName, const MQTTAsync_message *msg,
                        MQTTAsync_responseOptions *response);
    int (*get_pending_tokens)(MQTTAsync handle, MQTTAsync_token **tokens);
    void (*free_message)(MQTTAsync_message **msg);
    /* Paho's allocator: what Paho frees (the store's keys and buffers) must come from it. */
    void (*free)(void *ptr);
    void *(*malloc)(size_t size);
    void (*destroy)(MQTTAsync *handle);
    const char *(*strerror)(int code);
    void (*set_trace_level)(enum MQTTASYNC_TRACE_LEVELS level); /* paho_open's alone */
};

/*
 * Opens the library mqtt needs (PAHO_SONAME_TLS when tls_enabled, else
 * PAHO_SONAME_PLAIN) and fills the table. -1 with the library and dlerror()
 * in error when it cannot be opened or lacks a function.
 */
int paho_load(const struct mqtt_config *mqtt, char *error, size_t error_size);

/* paho_load's work for the library named soname (tests name one that does not exist). */
int paho_open(const char *soname, char *error, size_t error_size);

/* The table paho_load filled; NULL before. */
const struct paho *paho_api(void);

#endif
