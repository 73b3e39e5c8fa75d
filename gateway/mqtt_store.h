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
 *
 * A hostile disk can still truncate or damage a file. Each file therefore
 * starts with a header (magic, payload length, CRC-32), and a file that
 * cannot be read whole is moved to <store>/lost/, logged with its path and
 * reason, and counted, rather than dropped by Paho without a word.
 */
#ifndef SAFETYGW_MQTT_STORE_H
#define SAFETYGW_MQTT_STORE_H

#include <MQTTClientPersistence.h>

#include <stdint.h>

/* The callbacks for MQTTCLIENT_PERSISTENCE_USER, storing under base_dir (kept, not copied). */
MQTTClient_persistence mqtt_store_callbacks(const char *base_dir);

/* Queued messages found broken and moved aside since the process started (any thread). */
uint64_t mqtt_store_lost(void);

/*
 * The highest alarm event "seq" in any message file under base_dir (every
 * client and broker folder, lost/ included); 0 if none. Before the daemon
 * numbers events: a seq file that is behind must not repeat a queued seq.
 */
uint64_t mqtt_store_highest_seq(const char *base_dir);

#endif
