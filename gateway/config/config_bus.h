/*
 * config_bus.h — reading the `buses` list (RTU serial lines and Modbus TCP
 * servers) into config->buses, and freeing one bus.
 */
#ifndef SAFETYGW_CONFIG_BUS_H
#define SAFETYGW_CONFIG_BUS_H

#include "config.h"
#include "config_yaml.h"

/* Fills config->buses with the valid buses of list (NULL: none). */
void config_bus_read_list(struct config_yaml *file, const struct config_node *list,
                          struct config *config);
void config_bus_clear(struct bus_def *bus);

#endif
