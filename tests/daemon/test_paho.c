/*
 * The Paho loader with the real libraries: plain brokers get the build
 * without TLS, ssl:// brokers the TLS build, and a
 * library that cannot be opened is named with the loader's reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <dlfcn.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tcp_brokers_load_paho_without_tls,
                                        config_fixture_setup, config_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ssl_brokers_load_paho_with_tls, config_fixture_setup,
                                        config_fixture_teardown),
        cmocka_unit_test(test_a_missing_library_is_named_with_the_loader_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
