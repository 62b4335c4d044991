// tailgate-pipeline-ceiling: the single-stream pipeline at its cheapest, the ceiling
// that `tailgate-bench e2e-throughput` measures beside the product.
//
// It does the work SPEC asks of the pipeline for a line and no more, in three threads: one
// follows a container's log from the Docker API as the agent does (HTTP/1.0, timestamps, a
// 0.5 ms pause after each read under 64 KiB, batches of at most 1000 lines at least 4 ms
// apart, each written as the agent's MULTI/EXEC transaction, pipelined); one relays the
// stream's channel as a gateway does (each read of its Redis socket, up to 128 KiB, becomes
// one `log.lines` WebSocket message to the client over loopback TCP, after each line's seq
// and epoch are read); and one is the client, counting the lines of those messages. What a
// line costs here is Docker's, Redis's, the kernel's and what minimal C code spends.
//
// It reads Docker's multiplexed stream only: the container must run without a TTY, as the
// bench's do.
//
// usage: tailgate-pipeline-ceiling DOCKER_SOCKET CONTAINER_ID REDIS_HOST REDIS_PORT LINES
// Prints one line: received=N seconds=S follower_cpu=S relay_cpu=S client_cpu=S, where
// seconds run from the first message the client received to the last. Exits 1 on any
// error, with a message.
#define _GNU_SOURCE
#include <errno.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum {
    max_batch_lines = 1000,
    max_message_bytes = 16 * 1024, // Docker splits longer lines; the ceiling does not join them
    frame_overhead = 512,
    max_frame_bytes = max_message_bytes * 6 + frame_overhead, // every byte escaped as \u00XX at worst
    batch_buffer_bytes = 8 << 20,
    max_container_id_bytes = 64,
    // Each frame twice (in LPUSH and in its PUBLISH), with the commands' heads (a PUBLISH head
    // holds the channel, under 96 bytes with a 64-byte container id, and two lengths).
    transaction_buffer_bytes = 2 * batch_buffer_bytes + max_batch_lines * 160 + 4096,
    read_buffer_bytes = 1 << 20,
    large_read_bytes = 64 * 1024,
};
static const double batch_pause_seconds = 0.004;
static const useconds_t read_pause_microseconds = 500;
static const char agent_id[] = "ceiling";
static const char epoch[] = "ce111n9ce111n900";

static void fail(const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    fputs("tailgate-pipeline-ceiling: ", stderr);
    vfprintf(stderr, format, arguments);
    fputc('\n', stderr);
    va_end(arguments);
    exit(1);
}

static double monotonic_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static double thread_cpu_seconds(void) {
    struct timespec used;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &used);
    return (double)used.tv_sec + (double)used.tv_nsec / 1e9;
}

static redisContext *connect_redis(const char *host, int port) {
    redisContext *redis = redisConnect(host, port);
    if (!redis || redis->err) fail("cannot connect to Redis at %s:%d: %s", host, port, redis ? redis->errstr : "out of memory");
    return redis;
}

// MARK: - Relay: the gateway's work, from the channel to a WebSocket client

// What the relay sends: a `log.lines` frame of the lines that one read of its Redis socket
// brought, of at most this many bytes (the gateway's `ClientOutbox.batchLimit` bounds the
// lines it puts in one frame by their frames' bytes, to the same amount).
enum {
    relay_read_bytes = 128 << 10, // as the gateway's `HiredisContext` reads
    relay_feed_bytes = 4096,
    relay_frame_bytes = 256 << 10,
};
static const char line_frame_head[] = "{\"type\":\"log.line\",\"data\":";
static const char line_object_head[] = "{\"seq\":";
static const char epoch_field[] = ",\"epoch\":\"";

struct relay {
    const char *host;
    int port;
    const char *channel;
    const char *container;
    long expected;
    int client; // the relay's end of its connection to the client
    sem_t subscribed;
    long relayed, last_seq;
    double cpu_seconds;
};

static void send_all(int socket, const struct iovec *parts, int count) {
    struct iovec rest[2];
    memcpy(rest, parts, sizeof rest[0] * (size_t)count);
    struct msghdr message = {.msg_iov = rest, .msg_iovlen = (size_t)count};
    while (message.msg_iovlen > 0) {
        ssize_t sent = sendmsg(socket, &message, MSG_NOSIGNAL);
        if (sent < 0) fail("writing to the client: %s", strerror(errno));
        while (message.msg_iovlen > 0 && (size_t)sent >= message.msg_iov->iov_len) {
            sent -= (ssize_t)message.msg_iov->iov_len;
            message.msg_iov++;
            message.msg_iovlen--;
        }
        if (message.msg_iovlen > 0) {
            message.msg_iov->iov_base = (char *)message.msg_iov->iov_base + sent;
            message.msg_iov->iov_len -= (size_t)sent;
        }
    }
}

struct outgoing {
    char *bytes;
    size_t used, head_length;
    int lines;
};

// Sends the `log.lines` frame being built, if it has a line, as one unmasked WebSocket text message.
static void send_frame(struct relay *relay, struct outgoing *frame) {
    if (frame->lines == 0) return;
    memcpy(frame->bytes + frame->used, "]}}", 3);
    size_t length = frame->used + 3;
    unsigned char header[10] = {0x81};
    size_t header_length = 2;
    if (length < 126) {
        header[1] = (unsigned char)length;
    } else if (length < 65536) {
        header[1] = 126, header[2] = (unsigned char)(length >> 8), header[3] = (unsigned char)length;
        header_length = 4;
    } else {
        header[1] = 127;
        for (int index = 0; index < 8; index++) header[2 + index] = (unsigned char)(length >> (56 - 8 * index));
        header_length = 10;
    }
    struct iovec parts[2] = {{header, header_length}, {frame->bytes, length}};
    send_all(relay->client, parts, 2);
    frame->used = frame->head_length;
    frame->lines = 0;
}

// Adds a message's `Line` object to the frame, after reading its seq and epoch as the gateway's
// `LogLineFrame.parse` does; a line at or below the last seq is not passed on.
static void relay_message(struct relay *relay, struct outgoing *frame, const char *payload, size_t length) {
    size_t head = sizeof line_frame_head - 1;
    if (length < head + sizeof line_object_head || memcmp(payload, line_frame_head, head) != 0 ||
        memcmp(payload + head, line_object_head, sizeof line_object_head - 1) != 0 || payload[length - 1] != '}') {
        fail("not a log.line frame: %.*s", (int)(length < 80 ? length : 80), payload);
    }
    const char *digits = payload + head + sizeof line_object_head - 1, *end = payload + length;
    long seq = 0;
    while (digits < end && *digits >= '0' && *digits <= '9') seq = seq * 10 + (*digits++ - '0');
    if ((size_t)(end - digits) < sizeof epoch_field || memcmp(digits, epoch_field, sizeof epoch_field - 1) != 0 ||
        !memchr(digits + sizeof epoch_field - 1, '"', (size_t)(end - digits) - (sizeof epoch_field - 1))) {
        fail("a log.line frame without its epoch");
    }
    if (seq <= relay->last_seq) return;
    relay->last_seq = seq;
    size_t object_length = length - head - 1;
    if (frame->head_length + object_length + 4 > relay_frame_bytes) fail("a line of %zu bytes", object_length);
    if (frame->used + object_length + 4 > relay_frame_bytes) send_frame(relay, frame);
    if (frame->lines > 0) frame->bytes[frame->used++] = ',';
    memcpy(frame->bytes + frame->used, payload + head, object_length);
    frame->used += object_length;
    frame->lines++;
    relay->relayed++;
}

static void *run_relay(void *argument) {
    struct relay *relay = argument;
    redisContext *redis = connect_redis(relay->host, relay->port);
    redisReply *reply = redisCommand(redis, "SUBSCRIBE %s", relay->channel);
    if (!reply || reply->type != REDIS_REPLY_ARRAY) fail("SUBSCRIBE failed: %s", reply && reply->str ? reply->str : redis->errstr);
    freeReplyObject(reply);
    // A lost line would leave it waiting for ever: 20 s without a message ends the relay.
    struct timeval timeout = {.tv_sec = 20};
    setsockopt(redis->fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sem_post(&relay->subscribed);

    char *input = malloc(relay_read_bytes);
    struct outgoing frame = {.bytes = malloc(relay_frame_bytes)};
    if (!input || !frame.bytes) fail("out of memory");
    frame.head_length = (size_t)snprintf(frame.bytes, relay_frame_bytes,
        "{\"type\":\"log.lines\",\"data\":{\"agentId\":\"%s\",\"containerId\":\"%s\",\"lines\":[", agent_id, relay->container);
    frame.used = frame.head_length;
    while (relay->relayed < relay->expected) {
        ssize_t count = read(redis->fd, input, relay_read_bytes);
        if (count <= 0) break;
        // Fed a part at a time, as the gateway's `HiredisContext` does: after each reply, once
        // 1 KiB is parsed, hiredis moves what it has not parsed to the front of its buffer.
        size_t fed = 0;
        void *message;
        for (;;) {
            if (redisGetReplyFromReader(redis, &message) != REDIS_OK) fail("bad reply from Redis");
            if (!message && fed < (size_t)count) {
                size_t part = (size_t)count - fed < relay_feed_bytes ? (size_t)count - fed : relay_feed_bytes;
                if (redisReaderFeed(redis->reader, input + fed, part) != REDIS_OK) fail("bad reply from Redis");
                fed += part;
                continue;
            }
            if (!message) break;
            reply = message;
            if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 && reply->element[2]->type == REDIS_REPLY_STRING) {
                relay_message(relay, &frame, reply->element[2]->str, reply->element[2]->len);
            }
            freeReplyObject(reply);
        }
        send_frame(relay, &frame);
    }
    relay->cpu_seconds = thread_cpu_seconds();
    shutdown(relay->client, SHUT_WR);
    free(input);
    free(frame.bytes);
    redisFree(redis);
    return NULL;
}

// MARK: - Client: counts the lines of the `log.lines` messages it receives

struct client {
    int listener;
    long received;
    double first, last;
    double cpu_seconds;
};

static void *run_client(void *argument) {
    struct client *client = argument;
    int socket = accept(client->listener, NULL, NULL);
    if (socket < 0) fail("accepting the relay's connection: %s", strerror(errno));
    size_t capacity = relay_frame_bytes + 16, buffered = 0;
    char *buffer = malloc(capacity);
    if (!buffer) fail("out of memory");
    for (;;) {
        ssize_t count = read(socket, buffer + buffered, capacity - buffered);
        if (count <= 0) break;
        buffered += (size_t)count;
        size_t position = 0;
        // Whole WebSocket messages: a 2-byte header, then a 16- or 64-bit length when the 7-bit one says so.
        while (buffered - position >= 2) {
            const unsigned char *header = (const unsigned char *)buffer + position;
            size_t length = header[1] & 0x7f, header_length = 2;
            if (length == 126) {
                if (buffered - position < 4) break;
                length = ((size_t)header[2] << 8) | header[3];
                header_length = 4;
            } else if (length == 127) {
                if (buffered - position < 10) break;
                length = 0;
                for (int index = 0; index < 8; index++) length = (length << 8) | header[2 + index];
                header_length = 10;
            }
            if (header_length + length > capacity) fail("a message of %zu bytes", length);
            if (buffered - position < header_length + length) break;
            const char *text = buffer + position + header_length, *end = text + length;
            long lines = 0;
            while ((text = memmem(text, (size_t)(end - text), line_object_head, sizeof line_object_head - 1))) {
                lines++;
                text += sizeof line_object_head - 1;
            }
            client->last = monotonic_seconds();
            if (client->received == 0) client->first = client->last;
            client->received += lines;
            position += header_length + length;
        }
        memmove(buffer, buffer + position, buffered - position);
        buffered -= position;
    }
    client->cpu_seconds = thread_cpu_seconds();
    free(buffer);
    close(socket);
    return NULL;
}

// A loopback TCP connection, as between the gateway and a client on the same host.
static int connect_client(int listener) {
    struct sockaddr_in address;
    socklen_t length = sizeof address;
    if (getsockname(listener, (struct sockaddr *)&address, &length) != 0) fail("getsockname: %s", strerror(errno));
    int socket_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (socket_fd < 0 || connect(socket_fd, (struct sockaddr *)&address, length) != 0) fail("cannot connect to the client: %s", strerror(errno));
    int on = 1;
    setsockopt(socket_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    return socket_fd;
}

static int listen_loopback(void) {
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 1) != 0) {
        fail("cannot listen on loopback: %s", strerror(errno));
    }
    return listener;
}

// MARK: - Follower: Docker's log → log.line frames → the agent's transaction, one per batch

struct batch {
    char *frames; // frame after frame; their lengths are in `lengths`
    size_t used;
    size_t lengths[max_batch_lines];
    int count;
    long seq;
    char newest_timestamp[64];
};

struct follower {
    redisContext *redis;
    const char *container;
    char history_key[256], meta_key[256], channel[256];
    // What every frame of the stream holds between its seq and its timestamp's value, made
    // once, as the agent's `LogLineFrame.Template` is.
    char after_seq[256];
    size_t after_seq_length;
    struct batch batch;
    char *transaction; // the batch's MULTI … EXEC, as sent
    long replies_pending;
};

// JSON escaping as the agent's `JSONString.appendEscaped` does it.
static void append_escaped(struct batch *batch, const char *text, size_t length) {
    static const char hex[] = "0123456789abcdef";
    char *out = batch->frames + batch->used;
    for (size_t index = 0; index < length; index++) {
        unsigned char byte = (unsigned char)text[index];
        if (byte == '"' || byte == '\\') {
            *out++ = '\\';
            *out++ = (char)byte;
        } else if (byte == '\n' || byte == '\r' || byte == '\t') {
            *out++ = '\\';
            *out++ = byte == '\n' ? 'n' : byte == '\r' ? 'r' : 't';
        } else if (byte < 0x20) {
            out += sprintf(out, "\\u00%c%c", hex[byte >> 4], hex[byte & 15]);
        } else {
            *out++ = (char)byte;
        }
    }
    batch->used = (size_t)(out - batch->frames);
}

static void append_text(struct batch *batch, const char *text) {
    size_t length = strlen(text);
    memcpy(batch->frames + batch->used, text, length);
    batch->used += length;
}

// `payload` is one Docker record: "<RFC 3339 timestamp> <message>\n".
static void append_line(struct follower *follower, const char *payload, size_t length, int stream) {
    if (length && payload[length - 1] == '\n') length--;
    const char *space = memchr(payload, ' ', length);
    if (!space) fail("a log record without a timestamp");
    size_t timestamp_length = (size_t)(space - payload);
    size_t message_length = length - timestamp_length - 1;
    if (message_length > max_message_bytes || timestamp_length >= sizeof follower->batch.newest_timestamp) fail("a log record too long");

    struct batch *batch = &follower->batch;
    size_t start = batch->used;
    batch->seq++;
    batch->used += (size_t)sprintf(batch->frames + batch->used, "{\"type\":\"log.line\",\"data\":{\"seq\":%ld", batch->seq);
    memcpy(batch->frames + batch->used, follower->after_seq, follower->after_seq_length);
    batch->used += follower->after_seq_length;
    append_escaped(batch, payload, timestamp_length);
    append_text(batch, stream == 2 ? "\",\"stream\":\"stderr\",\"message\":\"" : "\",\"stream\":\"stdout\",\"message\":\"");
    append_escaped(batch, space + 1, message_length);
    append_text(batch, "\"}}");
    batch->lengths[batch->count++] = batch->used - start;
    memcpy(batch->newest_timestamp, payload, timestamp_length);
    batch->newest_timestamp[timestamp_length] = 0;
}

// Reads the replies that have arrived; with `wait_for_all`, blocks until none is pending.
static void collect_replies(struct follower *follower, int wait_for_all) {
    while (follower->replies_pending > 0) {
        void *message = NULL;
        if (redisGetReplyFromReader(follower->redis, &message) != REDIS_OK) fail("bad reply from Redis");
        if (message) {
            redisReply *reply = message;
            if (reply->type == REDIS_REPLY_ERROR) fail("Redis refused the batch: %s", reply->str);
            freeReplyObject(reply);
            follower->replies_pending--;
            continue;
        }
        int available = 0;
        ioctl(follower->redis->fd, FIONREAD, &available);
        if (available == 0 && !wait_for_all) return;
        if (redisBufferRead(follower->redis) != REDIS_OK) fail("reading from Redis: %s", follower->redis->errstr);
    }
}

static size_t append_bulk(char *out, const char *bytes, size_t length) {
    size_t used = (size_t)sprintf(out, "$%zu\r\n", length);
    memcpy(out + used, bytes, length);
    memcpy(out + used + length, "\r\n", 2);
    return used + length + 2;
}

// Sends the batch as the agent's `StreamAppender` does (MULTI, LPUSH of the frames, a PUBLISH
// per frame, LTRIM, HSET of meta, two EXPIREs, EXEC) without waiting for its replies.
static void send_batch(struct follower *follower) {
    struct batch *batch = &follower->batch;
    if (batch->count == 0) return;
    char *out = follower->transaction;
    size_t used = (size_t)sprintf(out, "*1\r\n$5\r\nMULTI\r\n*%d\r\n$5\r\nLPUSH\r\n", batch->count + 2);
    used += append_bulk(out + used, follower->history_key, strlen(follower->history_key));
    size_t offset = 0;
    for (int index = 0; index < batch->count; index++) {
        used += append_bulk(out + used, batch->frames + offset, batch->lengths[index]);
        offset += batch->lengths[index];
    }
    char publish_head[320];
    size_t publish_head_length = (size_t)sprintf(publish_head, "*3\r\n$7\r\nPUBLISH\r\n");
    publish_head_length += append_bulk(publish_head + publish_head_length, follower->channel, strlen(follower->channel));
    offset = 0;
    for (int index = 0; index < batch->count; index++) {
        memcpy(out + used, publish_head, publish_head_length);
        used += publish_head_length;
        used += append_bulk(out + used, batch->frames + offset, batch->lengths[index]);
        offset += batch->lengths[index];
    }
    char seq[32];
    snprintf(seq, sizeof seq, "%ld", batch->seq);
    const char *commands[][11] = {
        {"LTRIM", follower->history_key, "0", "999"},
        {"HSET", follower->meta_key, "epoch", epoch, "seq", seq, "lastTimestamp", batch->newest_timestamp, "lastTimestampCount", "1"},
        {"EXPIRE", follower->history_key, "86400"},
        {"EXPIRE", follower->meta_key, "86400"},
        {"EXEC"},
    };
    for (size_t command = 0; command < sizeof commands / sizeof commands[0]; command++) {
        int count = 0;
        while (count < 11 && commands[command][count]) count++;
        used += (size_t)sprintf(out + used, "*%d\r\n", count);
        for (int index = 0; index < count; index++) used += append_bulk(out + used, commands[command][index], strlen(commands[command][index]));
    }
    // MULTI's +OK, a +QUEUED for each of the count + 5 commands, EXEC's array.
    follower->replies_pending += batch->count + 7;
    for (size_t written = 0; written < used;) {
        ssize_t count = write(follower->redis->fd, out + written, used - written);
        if (count <= 0) fail("writing to Redis: %s", strerror(errno));
        written += (size_t)count;
    }
    batch->count = 0;
    batch->used = 0;
    collect_replies(follower, 0);
}

static int connect_docker(const char *socket_path) {
    int docker = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (docker < 0 || strlen(socket_path) >= sizeof address.sun_path) fail("bad Docker socket %s", socket_path);
    strcpy(address.sun_path, socket_path);
    if (connect(docker, (struct sockaddr *)&address, sizeof address) != 0) fail("cannot connect to Docker at %s", socket_path);
    return docker;
}

// Follows the log until Docker ends it (the container exited).
static void follow(struct follower *follower, const char *socket_path) {
    int docker = connect_docker(socket_path);
    char request[512];
    int request_length = snprintf(
        request, sizeof request,
        "GET /containers/%s/logs?follow=1&stdout=1&stderr=1&timestamps=1 HTTP/1.0\r\nHost: localhost\r\n\r\n",
        follower->container);
    if (write(docker, request, (size_t)request_length) != request_length) fail("cannot send the request to Docker");

    char *buffer = malloc(read_buffer_bytes);
    if (!buffer) fail("out of memory");
    size_t buffered = 0;
    int in_headers = 1;
    double last_batch = monotonic_seconds();
    for (;;) {
        ssize_t count = read(docker, buffer + buffered, read_buffer_bytes - buffered);
        if (count <= 0) break;
        buffered += (size_t)count;
        size_t position = 0;
        if (in_headers) {
            char *end = memmem(buffer, buffered, "\r\n\r\n", 4);
            if (!end) continue;
            if (strncmp(buffer, "HTTP/1.0 200", 12) != 0 && strncmp(buffer, "HTTP/1.1 200", 12) != 0) {
                fail("Docker answered %.*s", (int)strcspn(buffer, "\r\n"), buffer);
            }
            position = (size_t)(end + 4 - buffer);
            in_headers = 0;
        }
        // Docker's 8-byte record header: stream, three zero bytes, big-endian length.
        while (buffered - position >= 8) {
            const unsigned char *header = (const unsigned char *)buffer + position;
            size_t length = ((size_t)header[4] << 24) | ((size_t)header[5] << 16) | ((size_t)header[6] << 8) | header[7];
            if (length > max_message_bytes + 64) fail("a Docker record of %zu bytes", length);
            if (buffered - position < 8 + length) break;
            append_line(follower, buffer + position + 8, length, header[0]);
            position += 8 + length;
            if (follower->batch.count == max_batch_lines || follower->batch.used > batch_buffer_bytes - max_frame_bytes) {
                send_batch(follower);
                last_batch = monotonic_seconds();
            }
        }
        memmove(buffer, buffer + position, buffered - position);
        buffered -= position;
        if (monotonic_seconds() - last_batch >= batch_pause_seconds) {
            send_batch(follower);
            last_batch = monotonic_seconds();
        }
        if (count < large_read_bytes) usleep(read_pause_microseconds);
    }
    send_batch(follower);
    collect_replies(follower, 1);
    free(buffer);
    close(docker);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: tailgate-pipeline-ceiling DOCKER_SOCKET CONTAINER_ID REDIS_HOST REDIS_PORT LINES\n");
        return 2;
    }
    const char *socket_path = argv[1], *host = argv[3];
    int port = atoi(argv[4]);
    long lines = atol(argv[5]);
    size_t container_length = strlen(argv[2]);
    if (port <= 0 || lines <= 0 || container_length == 0 || container_length > max_container_id_bytes) fail("bad arguments");
    if (strspn(argv[2], "0123456789abcdef") != container_length) fail("a container id is hex: %s", argv[2]);

    static struct follower follower;
    follower.container = argv[2];
    follower.batch.frames = malloc(batch_buffer_bytes);
    follower.transaction = malloc(transaction_buffer_bytes);
    if (!follower.batch.frames || !follower.transaction) fail("out of memory");
    snprintf(follower.history_key, sizeof follower.history_key, "tailgate:history:{%s:%s}", agent_id, follower.container);
    snprintf(follower.meta_key, sizeof follower.meta_key, "tailgate:meta:{%s:%s}", agent_id, follower.container);
    snprintf(follower.channel, sizeof follower.channel, "tailgate:logs:{%s:%s}", agent_id, follower.container);
    // The ids need no escaping: the epoch and agent id are fixed, and the container id is hex.
    follower.after_seq_length = (size_t)snprintf(follower.after_seq, sizeof follower.after_seq,
        ",\"epoch\":\"%s\",\"agentId\":\"%s\",\"containerId\":\"%s\",\"timestamp\":\"", epoch, agent_id, follower.container);

    struct client client = {.listener = listen_loopback()};
    pthread_t client_thread, relay_thread;
    if (pthread_create(&client_thread, NULL, run_client, &client) != 0) fail("cannot start a thread");
    struct relay relay = {
        .host = host, .port = port, .channel = follower.channel, .container = follower.container, .expected = lines,
        .client = connect_client(client.listener),
    };
    sem_init(&relay.subscribed, 0, 0);
    if (pthread_create(&relay_thread, NULL, run_relay, &relay) != 0) fail("cannot start a thread");
    sem_wait(&relay.subscribed);

    follower.redis = connect_redis(host, port);
    follow(&follower, socket_path);
    double follower_cpu = thread_cpu_seconds();
    pthread_join(relay_thread, NULL);
    pthread_join(client_thread, NULL);

    printf("received=%ld seconds=%.6f follower_cpu=%.6f relay_cpu=%.6f client_cpu=%.6f\n", client.received,
        client.received > 1 ? client.last - client.first : 0.0, follower_cpu, relay.cpu_seconds, client.cpu_seconds);
    return 0;
}
