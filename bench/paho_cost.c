/*
 * paho_cost.c — what one MQTTAsync_sendMessage costs, as the uplink thread
 * calls it (bench/README.md, "What Paho costs per message"). Not part of the
 * build or of ctest; a benchmark that prints figures.
 *
 * Build (after the normal build in build/, which makes the daemon's libraries):
 *
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Igateway -Igateway/config -Isensors \
 *      -o build/paho_cost bench/paho_cost.c build/gateway/libsafetygw_daemon.a \
 *      build/gateway/libsafetygw_field.a build/gateway/config/libsafetygw_config.a \
 *      -lpaho-mqtt3as -ljansson -lyaml -lmodbus -lm -lpthread
 *
 * Run against a broker of its own:
 *
 *   mosquitto -p 18830 & build/paho_cost --uri tcp://127.0.0.1:18830; kill %1
 *
 * Sends a 170-byte telemetry payload at --rate messages/s (5,000: DESIGN.md's
 * 5,000 meters) in three ways the daemon publishes — QoS 0 (telemetry,
 * health), QoS 1 with no store, QoS 1 through the daemon's disk store
 * (mqtt_store.c: alarm events, command results, and retained states, which
 * are QoS 1 too) — each paced one message per wake-up of the sending thread
 * (the uplink before batching) and in batches of --batch per wake-up. Per
 * message it prints: the sending thread's wall and CPU time inside
 * MQTTAsync_sendMessage, allocations (malloc, calloc, realloc: counted by the
 * wrappers below) on the sending thread and on Paho's threads, CPU time of
 * Paho's threads and of the whole process, and the voluntary context
 * switches of Paho's send thread.
 */
#include <MQTTAsync.h>
#include <dirent.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "mqtt_store.h"
#include "paho.h"

/* --- allocations, counted per thread --------------------------------------------------- */

void *__libc_malloc(size_t size);
void *__libc_calloc(size_t count, size_t size);
void *__libc_realloc(void *block, size_t size);
void __libc_free(void *block);

#define THREADS_MAX 64
static _Atomic uint64_t allocations[THREADS_MAX];
static _Atomic long thread_ids[THREADS_MAX];
static atomic_int threads_seen;
static _Thread_local int thread_slot = -1;

static void count_allocation(void)
{
    if (thread_slot < 0) {
        int slot = atomic_fetch_add(&threads_seen, 1);
        thread_slot = slot < THREADS_MAX ? slot : THREADS_MAX - 1;
        atomic_store(&thread_ids[thread_slot], (long)syscall(SYS_gettid));
    }
    atomic_fetch_add_explicit(&allocations[thread_slot], 1, memory_order_relaxed);
}

void *malloc(size_t size)
{
    count_allocation();
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size)
{
    count_allocation();
    return __libc_calloc(count, size);
}

void *realloc(void *block, size_t size)
{
    count_allocation();
    return __libc_realloc(block, size);
}

void free(void *block)
{
    __libc_free(block);
}

/* --- per-thread figures from /proc ----------------------------------------------------- */

struct thread_figures {
    uint64_t paho_cpu_ns;        /* Paho's threads (MQTTAsync_*) */
    uint64_t send_switches;      /* voluntary, of MQTTAsync_send */
    uint64_t paho_allocations;   /* on Paho's threads */
    uint64_t caller_allocations; /* on this (the sending) thread */
};

static bool read_text(const char *path, char *text, size_t size)
{
    FILE *file = fopen(path, "r");
    if (!file)
        return false;
    size_t length = fread(text, 1, size - 1, file);
    text[length] = '\0';
    fclose(file);
    return true;
}

static uint64_t allocations_of(long tid)
{
    int seen = atomic_load(&threads_seen);
    for (int i = 0; i < seen && i < THREADS_MAX; i++)
        if (atomic_load(&thread_ids[i]) == tid)
            return atomic_load(&allocations[i]);
    return 0;
}

static struct thread_figures thread_figures(void)
{
    struct thread_figures figures = {0};
    long self = (long)syscall(SYS_gettid);
    figures.caller_allocations = allocations_of(self);
    DIR *tasks = opendir("/proc/self/task");
    struct dirent *task;
    while (tasks && (task = readdir(tasks)) != NULL) {
        long tid = atol(task->d_name);
        char path[300], text[4096];
        snprintf(path, sizeof path, "/proc/self/task/%ld/comm", tid);
        if (tid <= 0 || tid == self || !read_text(path, text, sizeof text) ||
            strncmp(text, "MQTTAsync_", 10) != 0)
            continue;
        bool send_thread = strncmp(text, "MQTTAsync_send", 14) == 0;
        figures.paho_allocations += allocations_of(tid);
        snprintf(path, sizeof path, "/proc/self/task/%ld/schedstat", tid);
        if (read_text(path, text, sizeof text))
            figures.paho_cpu_ns += strtoull(text, NULL, 10);
        snprintf(path, sizeof path, "/proc/self/task/%ld/status", tid);
        char *switches;
        if (send_thread && read_text(path, text, sizeof text) &&
            (switches = strstr(text, "\nvoluntary_ctxt_switches:")) != NULL)
            figures.send_switches = strtoull(switches + 25, NULL, 10);
    }
    if (tasks)
        closedir(tasks);
    return figures;
}

/* --- the bench ----------------------------------------------------------------------- */

static uint64_t now_ns(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t process_cpu_ns(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return ((uint64_t)usage.ru_utime.tv_sec + (uint64_t)usage.ru_stime.tv_sec) * 1000000000u +
           ((uint64_t)usage.ru_utime.tv_usec + (uint64_t)usage.ru_stime.tv_usec) * 1000u;
}

static void sleep_until(uint64_t deadline_ns)
{
    struct timespec t = {.tv_sec = (time_t)(deadline_ns / 1000000000u),
                         .tv_nsec = (long)(deadline_ns % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) != 0) {
    }
}

static atomic_bool connected;

static void on_connected(void *context, char *cause)
{
    (void)context;
    (void)cause;
    atomic_store(&connected, true);
}

static int on_message(void *context, char *topic, int length, MQTTAsync_message *message)
{
    (void)context;
    (void)length;
    MQTTAsync_freeMessage(&message);
    MQTTAsync_free(topic);
    return 1;
}

static size_t pending(MQTTAsync client)
{
    MQTTAsync_token *tokens = NULL;
    size_t count = 0;
    if (MQTTAsync_getPendingTokens(client, &tokens) == MQTTASYNC_SUCCESS && tokens)
        while (tokens[count] != -1)
            count++;
    MQTTAsync_free(tokens);
    return count;
}

struct run {
    const char *name;
    int qos;
    bool store;
};

static MQTTAsync connect_client(const char *uri, const struct run *run, const char *store_dir)
{
    static MQTTClient_persistence store;
    static char client_id[64];
    snprintf(client_id, sizeof client_id, "paho-cost-%d-%d%s", (int)getpid(), run->qos,
             run->store ? "s" : "");
    MQTTAsync client;
    MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer;
    create.sendWhileDisconnected = 1;
    create.maxBufferedMessages = 100000;
    create.persistQoS0 = 0; /* as the daemon */
    int rc;
    if (run->store) {
        store = mqtt_store_callbacks(store_dir);
        rc = MQTTAsync_createWithOptions(&client, uri, client_id, MQTTCLIENT_PERSISTENCE_USER,
                                         &store, &create);
    } else {
        rc = MQTTAsync_createWithOptions(&client, uri, client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL,
                                         &create);
    }
    if (rc != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "paho_cost: cannot create a client: %s\n", MQTTAsync_strerror(rc));
        exit(1);
    }
    atomic_store(&connected, false);
    MQTTAsync_setCallbacks(client, NULL, NULL, on_message, NULL);
    MQTTAsync_setConnected(client, NULL, on_connected);
    MQTTAsync_connectOptions options = MQTTAsync_connectOptions_initializer;
    options.cleansession = 1;
    options.MQTTVersion = MQTTVERSION_3_1_1;
    options.maxInflight = 64; /* as the daemon */
    options.keepAliveInterval = 30;
    if ((rc = MQTTAsync_connect(client, &options)) != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "paho_cost: cannot connect to %s: %s\n", uri, MQTTAsync_strerror(rc));
        exit(1);
    }
    for (int i = 0; i < 500 && !atomic_load(&connected); i++)
        usleep(10000);
    if (!atomic_load(&connected)) {
        fprintf(stderr, "paho_cost: no connection to %s (is a broker there?)\n", uri);
        exit(1);
    }
    return client;
}

static void measure(const char *uri, const struct run *run, const char *store_dir,
                    unsigned messages, unsigned rate, unsigned batch)
{
    MQTTAsync client = connect_client(uri, run, store_dir);
    static const char payload[] =
        "{\"ts\":\"2026-11-27T08:00:01.250Z\",\"values\":{\"r0\":1203,\"r1\":0,\"r2\":7,"
        "\"r3\":221,\"r4\":49,\"r5\":1,\"r6\":60000,\"r7\":0,\"r8\":31,\"r9\":2400}}";
    char topic[128];
    snprintf(topic, sizeof topic, "bench/paho_cost/telemetry/dev-%03u", batch);
    uint64_t period_ns = 1000000000ull * batch / rate;
    uint64_t call_wall_ns = 0, call_cpu_ns = 0;
    struct thread_figures before = thread_figures();
    uint64_t process_before = process_cpu_ns(), started = now_ns(CLOCK_MONOTONIC);
    for (unsigned sent = 0; sent < messages; sent += batch) {
        for (unsigned i = 0; i < batch && sent + i < messages; i++) {
            MQTTAsync_message message = MQTTAsync_message_initializer;
            message.payload = (void *)payload;
            message.payloadlen = (int)sizeof payload - 1;
            message.qos = run->qos;
            uint64_t wall = now_ns(CLOCK_MONOTONIC), cpu = now_ns(CLOCK_THREAD_CPUTIME_ID);
            int rc = MQTTAsync_sendMessage(client, topic, &message, NULL);
            call_cpu_ns += now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu;
            call_wall_ns += now_ns(CLOCK_MONOTONIC) - wall;
            if (rc != MQTTASYNC_SUCCESS) {
                fprintf(stderr, "paho_cost: send: %s\n", MQTTAsync_strerror(rc));
                exit(1);
            }
        }
        sleep_until(started + (uint64_t)(sent / batch + 1) * period_ns);
    }
    /* Until Paho has written (QoS 0) or seen acknowledged (QoS 1) every message. */
    for (int i = 0; i < 1000 && pending(client) > 0; i++)
        usleep(10000);
    usleep(200000);
    uint64_t process_ns = process_cpu_ns() - process_before;
    struct thread_figures after = thread_figures();
    double n = messages;
    printf("%-16s %5u %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.3f\n", run->name, batch,
           call_wall_ns / n / 1000, call_cpu_ns / n / 1000,
           (after.caller_allocations - before.caller_allocations) / n,
           (after.paho_allocations - before.paho_allocations) / n,
           (after.paho_cpu_ns - before.paho_cpu_ns) / n / 1000, process_ns / n / 1000,
           (after.send_switches - before.send_switches) / n);
    fflush(stdout);
    MQTTAsync_disconnectOptions disconnect = MQTTAsync_disconnectOptions_initializer;
    disconnect.timeout = 1000;
    MQTTAsync_disconnect(client, &disconnect);
    usleep(100000);
    MQTTAsync_destroy(&client);
}

int main(int argc, char **argv)
{
    const char *uri = "tcp://127.0.0.1:1883";
    unsigned messages = 20000, rate = 5000, batch = 50;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--uri") == 0)
            uri = argv[i + 1];
        else if (strcmp(argv[i], "--messages") == 0)
            messages = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--rate") == 0)
            rate = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--batch") == 0)
            batch = (unsigned)atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: paho_cost [--uri URI] [--messages N] [--rate N/s] "
                            "[--batch N]\n");
            return 2;
        }
    }
    /* The daemon's store calls Paho through paho.c's table: the build linked here. */
    char error[512];
    if (paho_open(PAHO_SONAME_TLS, error, sizeof error) != 0) {
        fprintf(stderr, "paho_cost: %s\n", error);
        return 1;
    }
    char store_dir[] = "/tmp/paho-cost-XXXXXX";
    if (!mkdtemp(store_dir)) {
        perror("paho_cost: mkdtemp");
        return 1;
    }
    MQTTAsync_init_options init = MQTTAsync_init_options_initializer;
    init.do_openssl_init = 0;
    MQTTAsync_global_init(&init);
    printf("%u messages of 170 bytes at %u/s to %s; per message:\n", messages, rate, uri);
    printf("%-16s %5s %8s %8s %8s %8s %8s %8s %8s\n", "", "batch", "call us", "call CPU", "allocs",
           "allocs", "Paho CPU", "all CPU", "send thr");
    printf("%-16s %5s %8s %8s %8s %8s %8s %8s %8s\n", "", "", "(wall)", "us", "caller", "Paho thr",
           "us", "us", "switches");
    const struct run runs[] = {
        {"qos 0", 0, false}, {"qos 1", 1, false}, {"qos 1 + store", 1, true}};
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        measure(uri, &runs[r], store_dir, messages, rate, 1);
        measure(uri, &runs[r], store_dir, messages, rate, batch);
    }
    char command[128];
    snprintf(command, sizeof command, "rm -rf %s", store_dir);
    return system(command) == 0 ? 0 : 1;
}
