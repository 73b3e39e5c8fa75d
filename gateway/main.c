/*
 * safetygwd — the gateway daemon: loads the configuration, starts the uplink
 * thread, one poller thread per bus and the control socket's thread, then the
 * main thread handles signals, reloads, the systemd watchdog and the periodic
 * health message. Who owns what, and the queues between the threads, are
 * drawn in gateway/README.md.
 */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "command_route.h"
#include "config.h"
#include "config_load.h"
#include "control.h"
#include "health.h"
#include "journal_native.h"
#include "log.h"
#include "publish.h"
#include "reload.h"
#include "runtime.h"
#include "systemd_notify.h"
#include "timeutil.h"
#include "uplink.h"

#define MAIN_TICK_MS 200
/*
 * Bursts (every device's state after a reconnection, a reload) leave freed
 * heap behind; giving it back now and then keeps the resident size near what is
 * live (measured: 38 -> 27 MiB with 10,000 devices).
 */
#define MEMORY_TRIM_INTERVAL_MS 10000
#define DRAIN_TIMEOUT_MS 4000 /* SIGTERM finishes within 5 s, well inside TimeoutStopSec */

struct options {
    const char *config_path;
    int log_level;
};

static void usage(FILE *out)
{
    fprintf(out, "usage: safetygwd -c FILE [--log-level error|warning|info|debug]\n"
                 "       safetygwd --version\n"
                 "Polls the buses and devices of FILE, applies the alarm rules and publishes\n"
                 "alarms to MQTT. See safetygwd(8).\n");
}

static int parse_options(int argc, char **argv, struct options *options)
{
    static const struct option long_options[] = {{"config", required_argument, NULL, 'c'},
                                                 {"log-level", required_argument, NULL, 'l'},
                                                 {"help", no_argument, NULL, 'h'},
                                                 {"version", no_argument, NULL, 'V'},
                                                 {NULL, 0, NULL, 0}};
    *options = (struct options){.config_path = NULL, .log_level = LOG_INFO};
    int option;
    while ((option = getopt_long(argc, argv, "c:l:hV", long_options, NULL)) != -1) {
        switch (option) {
        case 'c':
            options->config_path = optarg;
            break;
        case 'l':
            options->log_level = log_level_from_name(optarg);
            if (options->log_level < 0) {
                fprintf(stderr, "safetygwd: unknown log level \"%s\"\n", optarg);
                return -1;
            }
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case 'V':
            printf("safetygwd %s\n", SAFETYGW_VERSION);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (!options->config_path || optind != argc) {
        usage(stderr);
        return -1;
    }
    return 0;
}

/* Signals are taken synchronously by the main loop; every thread inherits the mask. */
static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, set, NULL);
}

static int next_signal(const sigset_t *set, uint32_t timeout_ms)
{
    struct timespec timeout = {.tv_sec = timeout_ms / 1000,
                               .tv_nsec = (long)(timeout_ms % 1000) * 1000000L};
    int signal_number = sigtimedwait(set, NULL, &timeout);
    return signal_number > 0 ? signal_number : 0;
}

static uint64_t watchdog_interval_ms(void)
{
    uint64_t usec = 0;
    int enabled = systemd_watchdog_usec(&usec);
    if (enabled < 0)
        log_warning("WATCHDOG_USEC or WATCHDOG_PID is not a positive number: no watchdog pings");
    if (enabled <= 0)
        return 0;
    return usec / 2000u; /* ping at half the period systemd allows */
}

/* What the main loop needs between signals. */
struct daemon {
    const char *config_path;
    struct config *config;
    struct runtime runtime;
    uint64_t started_wall_ms;
};

/* The control socket keeps answering throughout: it reads the runtime under its read lock. */
static void reload(struct daemon *daemon)
{
    log_info("SIGHUP: reloading %s", daemon->config_path);
    reload_apply(daemon->config_path, &daemon->config, &daemon->runtime);
    malloc_trim(0);
    systemd_notify("READY=1"); /* refused or not, the daemon runs a whole configuration */
}

/* Every thread that must show life: the buses and the uplink. */
static bool threads_alive(struct runtime *runtime, uint64_t now_ms, uint64_t max_silence_ms)
{
    return runtime_buses_alive(runtime, now_ms, max_silence_ms) &&
           now_ms <= uplink_heartbeat_ms() + max_silence_ms;
}

static void run(struct daemon *daemon, const sigset_t *signals)
{
    struct runtime *runtime = &daemon->runtime;
    uint64_t watchdog_ms = watchdog_interval_ms();
    uint64_t next_health_ms = time_monotonic_ms() + daemon->config->gateway.health_interval_ms;
    uint64_t next_watchdog_ms = 0;
    uint64_t next_trim_ms = 0;
    for (;;) {
        int signal_number = next_signal(signals, MAIN_TICK_MS);
        if (signal_number == SIGTERM || signal_number == SIGINT) {
            log_info("%s: stopping", strsignal(signal_number));
            return;
        }
        if (signal_number == SIGHUP) {
            systemd_notify("RELOADING=1");
            reload(daemon);
        }
        uint64_t now_ms = time_monotonic_ms();
        if (now_ms >= next_health_ms) {
            health_publish(runtime, daemon->started_wall_ms);
            next_health_ms = now_ms + daemon->config->gateway.health_interval_ms;
        }
        if (now_ms >= next_trim_ms) {
            malloc_trim(0);
            next_trim_ms = now_ms + MEMORY_TRIM_INTERVAL_MS;
        }
        /* A stuck bus or uplink thread must stop the pings so systemd restarts us. */
        if (watchdog_ms && now_ms >= next_watchdog_ms &&
            threads_alive(runtime, now_ms, watchdog_ms * 2)) {
            systemd_notify("WATCHDOG=1");
            next_watchdog_ms = now_ms + watchdog_ms;
        }
    }
}

/* The uplink's command handler: commands go to the buses of the runtime main runs. */
static char *route_command(void *runtime, const char *device_id, const char *payload, size_t length)
{
    return command_route(runtime, device_id, payload, length);
}

/*
 * Order matters: the saved alarms are restored on the devices before anyone
 * else runs; the uplink runs before the buses (it takes their first events)
 * and stops after them (it sends their last ones, and the refusals of the
 * commands they did not run).
 */
static int start(struct runtime *runtime, struct config *config, uint64_t started_wall_ms)
{
    if (uplink_open(config, started_wall_ms, route_command, runtime) != 0)
        return -1;
    if (runtime_prepare(runtime, config) != 0)
        return -1;
    runtime_restore_alarms(runtime, uplink_saved_alarms());
    runtime_restore_shelvings(runtime, uplink_saved_shelvings());
    if (uplink_run() != 0 || runtime_start_buses(runtime, NULL) != 0 ||
        control_start(runtime, started_wall_ms) != 0) {
        runtime_free(runtime);
        return -1;
    }
    return 0;
}

static void stop(struct runtime *runtime)
{
    control_stop();
    runtime_stop(runtime);
    uplink_stop(DRAIN_TIMEOUT_MS);
    runtime_free(runtime);
}

int main(int argc, char **argv)
{
    struct options options;
    if (parse_options(argc, argv, &options) != 0)
        return 2;
    log_set_level(options.log_level);
    log_use_journal(journal_native_sendv); /* under systemd: with SAFETYGW_DEVICE= and friends */
    sigset_t signals;
    block_signals(&signals);

    /*
     * The reactor allocates almost nothing (alarm payloads): one malloc arena for
     * all of them instead of one each saves megabytes with a hundred buses.
     */
    mallopt(M_ARENA_MAX, 1);
    struct daemon daemon = {.config_path = options.config_path, .started_wall_ms = time_wall_ms()};
    daemon.config = config_load_logged(options.config_path, "", "not starting");
    if (!daemon.config)
        return 1;
    malloc_trim(0); /* give back what parsing the YAML document took */
    if (start(&daemon.runtime, daemon.config, daemon.started_wall_ms) != 0) {
        uplink_stop(0);
        config_free(daemon.config);
        return 1;
    }
    log_info("safetygwd %s started: gateway %s, %zu buses, %zu devices, MQTT %s", SAFETYGW_VERSION,
             daemon.config->gateway.id, daemon.config->bus_count, daemon.config->device_count,
             daemon.config->mqtt.uri);
    systemd_notify("READY=1");

    run(&daemon, &signals);

    systemd_notify("STOPPING=1");
    stop(&daemon.runtime);
    config_free(daemon.config);
    log_info("stopped");
    return 0;
}
