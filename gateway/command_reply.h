/*
 * command_reply.h — a command's result on its way out: the bus that ran (or
 * refused) a command posts P/cmd-result/<device-id> to the uplink
 * queue. Below the buses and above the uplink, so a bus's answer goes down.
 */
#ifndef SAFETYGW_COMMAND_REPLY_H
#define SAFETYGW_COMMAND_REPLY_H

/* Queues P/cmd-result/<device_id> for the uplink; error NULL means ok. */
void command_reply(const char *device_id, const char *command_id, const char *error);

#endif
