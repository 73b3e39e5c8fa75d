/*
 * config_device.h — reading the `devices` list into config->devices, and
 * freeing one device.
 */
#ifndef SAFETYGW_CONFIG_DEVICE_H
#define SAFETYGW_CONFIG_DEVICE_H

#include "config.h"
#include "config_yaml.h"

/* Fills config->devices; config->profiles and config->buses must be complete. */
void config_device_read_list(struct config_yaml *file, const struct config_node *list,
                             struct config *config);
void config_device_clear(struct device_def *device);

#endif
