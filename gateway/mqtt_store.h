/*
 * mqtt_store.h — the disk store behind Paho's offline buffer (Paho's
 * MQTTClient_persistence interface): one file per queued message in
 * state_dir/mqtt/<client id>-<broker>/.
 *
 * Why not Paho's own file store: it ignores the result of fclose(), so on a
 * full disk a message whose bytes never reached the disk is taken as stored,
 * dropped from memory, and the empty file later crashes the client (measured
 * here with Paho 1.3.11 and a full tmpfs). This store reports every failed
 * write, so Paho keeps such a message in memory and still delivers it.
 * Each file is written to a temporary name and renamed, so a crash leaves a
 * message whole or absent.
 */
#ifndef SAFETYGW_MQTT_STORE_H
#define SAFETYGW_MQTT_STORE_H

#include <MQTTClientPersistence.h>

/* The callbacks for MQTTCLIENT_PERSISTENCE_USER, storing under base_dir (kept, not copied). */
MQTTClient_persistence mqtt_store_callbacks(const char *base_dir);

#endif
