/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal model of the relay engine.
 *
 * Ownership rules (who may touch what):
 *  - Control code (C# control thread, vhost callbacks, ethdev event
 *    callbacks) runs under relay_lock. It owns everything in struct relay
 *    except what a worker currently owns.
 *  - A direction of a relay (its staging buffer, round-robin cursor and
 *    counters) is owned by the worker whose task list contains it. Control
 *    code takes a direction back by publishing task lists without it and
 *    waiting for an RCU grace period (dp_publish_tasks()).
 *  - Workers read relay->vid, relay->port_ready and the queue masks with
 *    acquire loads. Control code retracts them with release stores and then
 *    waits for a grace period before it frees what they referred to.
 */

#ifndef VIO4WD_DATAPLANE_H
#define VIO4WD_DATAPLANE_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>

#include "vio4wd.h"

#define BURST_LEN 32
/* Descriptors of a VF port's RX and TX rings: DPDK's usual 512, or 256 of
 * 9 KiB buffers (jumbo frames, TSO), which still hold more bytes. The pool
 * sizes in mempool.c follow from them. */
#define VF_RING_SIZE 512
#define VF_RING_SIZE_LARGE 256

#define MAX_QUEUE_PAIRS VIO4WD_MAX_QUEUE_PAIRS
#define MAX_BOND_MEMBERS VIO4WD_MAX_BOND_MEMBERS
#define MAX_WORKERS 64

enum dir {
	DIR_VM_TO_VF = 0,
	DIR_VF_TO_VM = 1,
	DIR_COUNT = 2,
};

struct staging {
	struct rte_mbuf *pkts[BURST_LEN];
	uint32_t hash[BURST_LEN];
	uint64_t bytes;          /* the packets' total length, so a burst sent whole needs no second pass */
	uint16_t count;
	bool held;               /* the destination refused part of it */
	uint64_t stalled_since;  /* TSC when the VF last took nothing of it; 0 = it did */
};

struct dir_counters {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t drop_unavail_packets;
	uint64_t drop_unavail_bytes;
	uint64_t held_bursts;
	uint64_t queue_packets[MAX_QUEUE_PAIRS];
	uint64_t drop_invalid_packets;
	uint64_t drop_invalid_bytes;
};

/* The hot state of one direction: written only by the worker running it,
 * so it shares no cache line with the other direction or another relay
 * (the relay table is allocated cache-line aligned). */
struct direction {
	struct staging stage;
	struct dir_counters ctr;
	uint32_t tx_q_rr;        /* VM -> VF: next guest TX queue to poll */
} __rte_cache_aligned;

struct relay {
	unsigned int id;

	/* Read by workers. */
	int vid;                 /* vhost device id, -1 while no VM */
	bool port_ready;         /* the VF port is started */
	uint16_t port;
	uint32_t rx_q_mask;      /* guest RX queues enabled (VF -> VM) */
	uint32_t tx_q_mask;      /* guest TX queues enabled (VM -> VF) */
	struct rte_mempool *pool;

	/* Owned by the worker of each direction, each on cache lines of its
	 * own: the two directions may run on two workers. */
	struct direction dirs[DIR_COUNT];

	/* Control state. */
	int cpu[DIR_COUNT];      /* worker lcore running the direction, -1 none */
	int pin[DIR_COUNT];      /* requested lcore, -1 automatic */
	char socket[VIO4WD_PATH_LEN];
	bool socket_registered;
	bool socket_busy;        /* (un)registration in progress */
	bool client_mode;
	int pending_vid;         /* connected, not yet running (vring masks) */
	int rejected_vid;        /* refused once: DPDK asks again on every message */
	int overflow_vid;        /* enabled a queue pair past MAX_QUEUE_PAIRS */
	uint32_t pending_rx_mask;
	uint32_t pending_tx_mask;
	uint32_t queue_pairs;
	uint64_t features;
	bool lm_pending;

	bool has_device;
	char device[VIO4WD_DEVICE_LEN];
	bool is_bond;
	int bond_mode;
	char bond_name[32];
	uint16_t members[MAX_BOND_MEMBERS];
	unsigned int n_members;
	bool device_failed;

	int numa;                /* mempool node, -1 any */
	unsigned int pool_gen;
} __rte_cache_aligned;

struct task {
	struct relay *relay;
	enum dir dir;
};

struct task_list {
	unsigned int n;
	struct task t[];
};

struct worker {
	unsigned int lcore;
	int numa;
	struct task_list *tasks;
	uint64_t busy_cycles;
	uint64_t idle_cycles;
	uint64_t polls;
	uint64_t packets;
} __rte_cache_aligned;

/* vhost device ids the vhost library hands out are below this. */
#define MAX_VHOST_DEVICES 1024

struct dataplane {
	bool running;
	volatile bool stopping;
	struct vio4wd_options opts;
	unsigned int max_relays;
	struct relay *relays;
	struct worker workers[MAX_WORKERS];
	unsigned int n_workers;
	struct rte_rcu_qsbr *qsbr;
	pthread_mutex_t lock;
	/* vid -> relay id + 1 (0 = none), for the vhost callbacks that run
	 * with the vring locks held and so must not wait for the lock. */
	int vid_relay[MAX_VHOST_DEVICES];
};

extern struct dataplane dp;

/* Jumbo frames or TSO: 9 KiB mbufs, fewer of them. */
static inline bool
dp_large_buffers(void)
{
	return (dp.opts.flags & (VIO4WD_OPT_JUMBO | VIO4WD_OPT_TSO)) != 0;
}

void dp_lock(void);
void dp_unlock(void);

/* Rebuild every worker's task list from relay->cpu[] and wait until no
 * worker runs the old lists any more. */
int dp_publish_tasks(void);
/* Wait until every worker has passed a quiescent state. */
void dp_synchronize(void);

/* Place a direction on its pinned or least-loaded worker (two-phase, so a
 * direction never runs on two workers at once). */
int dp_place(struct relay *r, enum dir d);
/* Take a direction off its worker; its staging buffer is then ours.
 * Returns whether it waited for a grace period (it ran somewhere). */
bool dp_unplace(struct relay *r, enum dir d);
/* Free what a direction still holds, counting it as dropped. */
void dp_drop_staged(struct relay *r, enum dir d);

struct worker *dp_worker_of_lcore(int lcore);

/* mempool.c: one mbuf pool per relay, on the NUMA node of its VM or VF. */
int dp_ensure_pool(struct relay *r, int numa);
/* Mbufs a relay's pool needs (more for a bond). */
unsigned int bond_pool_size(const struct relay *r);
void dp_release_pool_if_unused(struct relay *r);
/* Give a relay a new pool on another node (both directions pause). */
int dp_move_pool(struct relay *r, int node);
/* Move a relay's pool to the node its VM asked for, if it asked. */
int dp_realign_pool(struct relay *r, int node);
/* device.c: set a stopped port up again on its relay's pool and start it. */
int device_restart_port(struct relay *r);
struct relay *dp_relay(unsigned int id);
/* The error for a relay id dp_relay() refused. */
int dp_no_relay(unsigned int id);
/* Start of a public call on one relay: clears the error, resolves the id
 * (0, or the error to return). */
int dp_begin(unsigned int id, struct relay **r);

int worker_main(void *arg);
uint32_t flow_hash(const struct rte_mbuf *m);

int device_start(void);
void device_stop(void);

void event_post(enum vio4wd_event_type type, unsigned int relay, int64_t value);
void event_init(void);
void event_shutdown(void);

#endif /* VIO4WD_DATAPLANE_H */
