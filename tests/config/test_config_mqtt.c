/*
 * test_config_mqtt.c — the mqtt section's brokers: one `uri`, or `uris`, the
 * nodes of a cluster, and the mistakes a user can make with them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "config_fixture.h"

static void test_one_uri_is_a_list_of_one(void **state)
{
    struct config_fixture *fixture = *state;
    const struct config *config = config_fixture_load(fixture, "gateway: { id: gw-1 }\n"
                                                               "mqtt: { uri: tcp://b1:1883 }\n");
    assert_non_null(config);
    assert_string_equal(config->mqtt.uri, "tcp://b1:1883");
    assert_int_equal(config->mqtt.uri_count, 1);
    assert_string_equal(config->mqtt.uris[0], "tcp://b1:1883");
}

static void test_uris_keep_their_order_and_join_into_uri(void **state)
{
    struct config_fixture *fixture = *state;
    const struct config *config = config_fixture_load(
        fixture, "gateway: { id: gw-1 }\n"
                 "mqtt: { uris: [ tcp://n1:1883, tcp://n2:1883, tcp://n3:1883 ] }\n");
    assert_non_null(config);
    assert_int_equal(config->mqtt.uri_count, 3);
    assert_string_equal(config->mqtt.uris[0], "tcp://n1:1883");
    assert_string_equal(config->mqtt.uris[2], "tcp://n3:1883");
    assert_string_equal(config->mqtt.uri, "tcp://n1:1883,tcp://n2:1883,tcp://n3:1883");
    assert_false(config->mqtt.tls_enabled);
}

static void test_ssl_uris_need_tls(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture, "gateway: { id: gw-1 }\n"
                                             "mqtt: { uris: [ ssl://n1:8883, ssl://n2:8883 ] }\n"));
    assert_config_error(fixture, "gateway.yaml", 2, 15,
                        "is ssl:// but mqtt.tls (with ca_file) is missing");
    const struct config *config =
        config_fixture_load(fixture, "gateway: { id: gw-1 }\n"
                                     "mqtt: { uris: [ ssl://n1:8883, ssl://n2:8883 ],\n"
                                     "        tls: { ca_file: /etc/ca.pem } }\n");
    assert_non_null(config);
    assert_true(config->mqtt.tls_enabled);
}

static void test_uri_and_uris_together_or_neither_are_refused(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture,
                                    "gateway: { id: gw-1 }\n"
                                    "mqtt: { uri: tcp://a:1883, uris: [ tcp://b:1883 ] }\n"));
    assert_config_error(fixture, "gateway.yaml", 2, 7, "mqtt has both uri and uris");
    assert_null(config_fixture_load(fixture, "gateway: { id: gw-1 }\n"
                                             "mqtt: { qos: 1 }\n"));
    assert_config_error(fixture, "gateway.yaml", 2, 7, "missing required key \"uri\"");
}

static void test_uris_mistakes_are_reported_at_the_item(void **state)
{
    struct config_fixture *fixture = *state;
    assert_null(config_fixture_load(fixture, "gateway: { id: gw-1 }\n"
                                             "mqtt:\n"
                                             "  uris:\n"
                                             "    - tcp://n1:1883\n"
                                             "    - ssl://n2:8883\n"));
    assert_config_error(fixture, "gateway.yaml", 5, 7, "mixes tcp:// and ssl://");
    assert_null(config_fixture_load(fixture, "gateway: { id: gw-1 }\n"
                                             "mqtt:\n"
                                             "  uris:\n"
                                             "    - tcp://n1:1883\n"
                                             "    - tcp://n1:1883\n"));
    assert_config_error(fixture, "gateway.yaml", 5, 7, "lists \"tcp://n1:1883\" twice");
    assert_null(config_fixture_load(fixture, "gateway: { id: gw-1 }\n"
                                             "mqtt: { uris: [ http://n1 ] }\n"));
    assert_config_error(fixture, "gateway.yaml", 2, 17, "must be tcp://host:port");
    assert_null(config_fixture_load(fixture, "gateway: { id: gw-1 }\n"
                                             "mqtt: { uris: [] }\n"));
    assert_config_error(fixture, "gateway.yaml", 2, 15, "must list 1 to 16 brokers, not 0");
    assert_null(config_fixture_load(fixture, "gateway: { id: gw-1 }\n"
                                             "mqtt: { uris: tcp://n1:1883 }\n"));
    assert_config_error(fixture, "gateway.yaml", 2, 15, "mqtt.uris must be a list");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define TEST(name)                                                                                 \
    cmocka_unit_test_setup_teardown(name, config_fixture_setup, config_fixture_teardown)
        TEST(test_one_uri_is_a_list_of_one),
        TEST(test_uris_keep_their_order_and_join_into_uri),
        TEST(test_ssl_uris_need_tls),
        TEST(test_uri_and_uris_together_or_neither_are_refused),
        TEST(test_uris_mistakes_are_reported_at_the_item),
#undef TEST
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
