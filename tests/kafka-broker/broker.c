/*
 * broker.c - a Kafka-protocol broker for the tests, on librdkafka's mock
 * cluster (rdkafka_mock.h): real clients (tapline, kcat) reach it over TCP.
 *
 *   kafka-broker [-n BROKERS] [-p PARTITIONS]
 *
 * Prints its bootstrap address ("127.0.0.1:PORT[,...]") on the first line of
 * stdout, then reads commands on stdin, one per line, and answers "ok" or
 * "error: why" to each, so a test can wait for a command to take effect:
 *   down [ID]                take broker ID (default: every broker) down: its
 *                            connections are closed and new ones refused
 *   up [ID]                  bring it (them) back
 *   topic NAME [PARTITIONS]  create a topic
 *   rtt MS [ID]              delay every answer by MS milliseconds
 *   quit                     (or end of input) stop
 * Topics are created on first use, with PARTITIONS partitions (default 4).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static int broker_each(rd_kafka_mock_cluster_t *mc, int nbrokers, const char *arg,
                       rd_kafka_resp_err_t (*fn)(rd_kafka_mock_cluster_t *, int32_t))
{
    int lo = 1, hi = nbrokers;
    if (arg) {
        lo = hi = atoi(arg);
        if (lo < 1 || lo > nbrokers)
            return -1;
    }
    for (int id = lo; id <= hi; id++)
        if (fn(mc, id) != RD_KAFKA_RESP_ERR_NO_ERROR)
            return -1;
    return 0;
}

int main(int argc, char **argv)
{
    char errstr[512], line[512];
    int nbrokers = 1, partitions = 4, c;

    while ((c = getopt(argc, argv, "n:p:")) != -1) {
        switch (c) {
        case 'n': nbrokers = atoi(optarg); break;
        case 'p': partitions = atoi(optarg); break;
        default: fprintf(stderr, "usage: kafka-broker [-n BROKERS] [-p PARTITIONS]\n"); return 2;
        }
    }
    if (nbrokers < 1 || partitions < 1) {
        fprintf(stderr, "kafka-broker: bad broker or partition count\n");
        return 2;
    }

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    snprintf(line, sizeof(line), "%d", partitions);
    if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
        fprintf(stderr, "kafka-broker: %s\n", errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "kafka-broker: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, nbrokers);
    if (!mc) {
        fprintf(stderr, "kafka-broker: cannot create the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);

    while (fgets(line, sizeof(line), stdin)) {
        char *save = NULL, *cmd = strtok_r(line, " \t\r\n", &save);
        char *a1 = strtok_r(NULL, " \t\r\n", &save), *a2 = strtok_r(NULL, " \t\r\n", &save);
        int rc = 0;
        if (!cmd)
            continue;
        if (strcmp(cmd, "quit") == 0)
            break;
        if (strcmp(cmd, "down") == 0)
            rc = broker_each(mc, nbrokers, a1, rd_kafka_mock_broker_set_down);
        else if (strcmp(cmd, "up") == 0)
            rc = broker_each(mc, nbrokers, a1, rd_kafka_mock_broker_set_up);
        else if (strcmp(cmd, "topic") == 0 && a1)
            rc = rd_kafka_mock_topic_create(mc, a1, a2 ? atoi(a2) : partitions, 1) ? -1 : 0;
        else if (strcmp(cmd, "rtt") == 0 && a1) {
            for (int id = a2 ? atoi(a2) : 1; id <= (a2 ? atoi(a2) : nbrokers); id++)
                if (rd_kafka_mock_broker_set_rtt(mc, id, atoi(a1)))
                    rc = -1;
        } else {
            printf("error: unknown command '%s'\n", cmd);
            fflush(stdout);
            continue;
        }
        printf(rc ? "error: %s failed\n" : "ok\n", cmd);
        fflush(stdout);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
