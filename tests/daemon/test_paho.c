/*
 * The Paho loader with the real libraries: plain brokers get the build
 * without TLS, ssl:// brokers the TLS build, a library that cannot be opened
 * is named with the loader's reason, and Paho traces errors only unless a
 * developer asks for its trace.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <MQTTAsync.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config_fixture.h"
#include "paho.h"

/* The file name of the library that holds Paho's connect as the table resolved it. */
static const char *library_of_connect(void)
{
    Dl_info info;
    assert_non_null(paho_api());
    assert_int_not_equal(dladdr((void *)paho_api()->connect, &info), 0);
    const char *slash = strrchr(info.dli_fname, '/');
    return slash ? slash + 1 : info.dli_fname;
}

static void load(const struct config *config)
{
    char error[512];
    assert_non_null(config);
    if (paho_load(&config->mqtt, error, sizeof error) != 0)
        fail_msg("%s", error);
}

static void test_tcp_brokers_load_paho_without_tls(void **state)
{
    load(config_fixture_load(*state, "gateway: { id: gw-1 }\n"
                                     "mqtt: { uris: [ tcp://n1:1883, tcp://n2:1883 ] }\n"));
    assert_string_equal(library_of_connect(), "libpaho-mqtt3a.so.1");
}

static void test_ssl_brokers_load_paho_with_tls(void **state)
{
    load(config_fixture_load(*state, "gateway: { id: gw-1 }\n"
                                     "mqtt: { uri: ssl://broker:8883,\n"
                                     "        tls: { ca_file: /etc/ca.pem } }\n"));
    assert_string_equal(library_of_connect(), "libpaho-mqtt3as.so.1");
}

static void test_a_missing_library_is_named_with_the_loader_reason(void **state)
{
    (void)state;
    char error[512];
    assert_int_equal(paho_open("libpaho-mqtt-absent.so.1", error, sizeof error), -1);
    assert_non_null(strstr(error, "cannot load the MQTT library libpaho-mqtt-absent.so.1 "));
    assert_non_null(strstr(error, "cannot open shared object file"));
}

static int lowest_trace_level = INT_MAX;

/* Paho's threads call it with its log mutex held: it only records. */
static void record_trace_level(enum MQTTASYNC_TRACE_LEVELS level, char *message)
{
    (void)message;
    if ((int)level < lowest_trace_level)
        lowest_trace_level = (int)level;
}

static MQTTAsync create_client(const char *client_id)
{
    MQTTAsync client = NULL;
    MQTTAsync_createOptions options = MQTTAsync_createOptions_initializer;
    assert_int_equal(paho_api()->create_with_options(&client, "tcp://127.0.0.1:1883", client_id,
                                                     MQTTCLIENT_PERSISTENCE_NONE, NULL, &options),
                     MQTTASYNC_SUCCESS);
    return client;
}

/* One of Paho's functions the table does not hold, from the loaded plain build. */
static void *plain_paho_function(const char *symbol)
{
    void *library = dlopen(PAHO_SONAME_PLAIN, RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(library);
    void *address = dlsym(library, symbol);
    assert_non_null(address);
    dlclose(library); /* the loader's own handle keeps it loaded */
    return address;
}

/*
 * The lowest level Paho traces while a client is created (which enters a
 * dozen of its functions), after the plain build is loaded with the process's
 * environment. Paho starts at its default, TRACE_MINIMUM, as a fresh process
 * would. The first client initialises Paho's trace (its banner goes to any
 * callback), so the count is of the second.
 */
static int lowest_level_traced(void **state)
{
    const struct config *config =
        config_fixture_load(*state, "gateway: { id: gw-1 }\n"
                                    "mqtt: { uri: tcp://127.0.0.1:1883 }\n");
    load(config); /* the plain build is loaded from here on */
    void (*set_trace_level)(enum MQTTASYNC_TRACE_LEVELS level);
    void (*set_trace_callback)(MQTTAsync_traceCallback * callback);
    void *address = plain_paho_function("MQTTAsync_setTraceLevel");
    memcpy(&set_trace_level, &address, sizeof address);
    address = plain_paho_function("MQTTAsync_setTraceCallback");
    memcpy(&set_trace_callback, &address, sizeof address);

    set_trace_level(MQTTASYNC_TRACE_MINIMUM);
    load(config); /* as the daemon loads it at start */
    MQTTAsync first = create_client("trace-first");
    lowest_trace_level = INT_MAX;
    set_trace_callback(record_trace_level);
    MQTTAsync second = create_client("trace-second");
    paho_api()->destroy(&second);
    set_trace_callback(NULL);
    paho_api()->destroy(&first);
    return lowest_trace_level;
}

/*
 * Debian builds Paho to trace every function it enters into a ring in memory
 * (its default level), a cost on every message: the loader sets errors only.
 */
static void test_paho_traces_errors_only(void **state)
{
    assert_true(lowest_level_traced(state) >= MQTTASYNC_TRACE_ERROR);
}

/* A developer who asks for Paho's trace gets it at Paho's levels. */
static void test_a_developer_trace_keeps_paho_levels(void **state)
{
    assert_int_equal(setenv("MQTT_C_CLIENT_TRACE", "/dev/null", 1), 0);
    int lowest = lowest_level_traced(state);
    unsetenv("MQTT_C_CLIENT_TRACE");
    assert_int_equal(lowest, MQTTASYNC_TRACE_MINIMUM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tcp_brokers_load_paho_without_tls,
                                        config_fixture_setup, config_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ssl_brokers_load_paho_with_tls, config_fixture_setup,
                                        config_fixture_teardown),
        cmocka_unit_test(test_a_missing_library_is_named_with_the_loader_reason),
        cmocka_unit_test_setup_teardown(test_paho_traces_errors_only, config_fixture_setup,
                                        config_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_a_developer_trace_keeps_paho_levels,
                                        config_fixture_setup, config_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
