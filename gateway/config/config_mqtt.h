/*
 * config_mqtt.h — reading the `mqtt` section and its `tls` map into
 * config->mqtt, and freeing it.
 */
#ifndef SAFETYGW_CONFIG_MQTT_H
#define SAFETYGW_CONFIG_MQTT_H

#include "config.h"
#include "config_yaml.h"

/* Reads node into config->mqtt; defaults come from config->gateway, read before. */
void config_mqtt_read(struct config_yaml *file, const struct config_node *node,
                      struct config *config);
void config_mqtt_clear(struct mqtt_config *mqtt);

#endif
