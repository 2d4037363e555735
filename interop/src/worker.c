/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The forwarding loop. Each worker lcore runs the directions in its task
 * list: VM->VF dequeues from the guest's TX queues and transmits on the VF,
 * VF->VM receives from the VF and enqueues to the guest's RX queues.
 *
 * Nothing is dropped because a queue is full: a burst that does not fit is
 * held in the direction's staging buffer and retried before anything new is
 * taken from the source (back-pressure). Packets are dropped, and counted,
 * when the destination side is absent, and as invalid when the VF refuses
 * one for good (its driver's tx_prepare, or no progress at all for 100 ms).
 */

#include <sys/prctl.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_vhost.h>

#include "dataplane.h"

#define IDLE_SLEEP_US 1000
/* Empty polls of ready relays before the first back-off sleep: a few
 * microseconds of spinning, so bursty traffic does not pay for sleeps. */
#define IDLE_SPIN_POLLS 512

static inline void
count_drops(struct dir_counters *c, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		c->drop_unavail_packets++;
		c->drop_unavail_bytes += rte_pktmbuf_pkt_len(pkts[i]);
		rte_pktmbuf_free(pkts[i]);
	}
}

static inline void
drop_all(struct staging *st, struct dir_counters *c)
{
	count_drops(c, st->pkts, st->count);
	st->count = 0;
	st->held = false;
	st->stalled_since = 0;
}

static inline uint64_t
sum_bytes(struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t bytes = 0;
	uint16_t i;

	for (i = 0; i < n; i++)
		bytes += rte_pktmbuf_pkt_len(pkts[i]);
	return bytes;
}

/* Count a burst once when the destination first refuses (part of) it. */
static inline void
note_held(struct staging *st, struct dir_counters *c, bool refused)
{
	if (refused && !st->held)
		c->held_bursts++;
	st->held = refused;
}

/* Keep the unsent tail of the staging buffer at its front, in order. */
static inline void
stage_consume(struct staging *st, uint16_t sent)
{
	uint16_t i;

	for (i = sent; i < st->count; i++) {
		st->pkts[i - sent] = st->pkts[i];
		st->hash[i - sent] = st->hash[i];
	}
	st->count -= sent;
}

/*
 * A VF that takes nothing of a held burst for this long refuses its first
 * packet for good (a driver that cannot send it and does not say so in
 * tx_prepare, such as the tap PMD with a guest's TSO frame): that packet is
 * dropped and counted as invalid so the direction goes on. A full TX ring
 * drains in microseconds; back-pressure is untouched.
 */
#define VF_STALL_MS 100

static inline void
vf_drop_stalled(struct staging *st, struct dir_counters *c)
{
	uint64_t now = rte_rdtsc();

	if (st->stalled_since == 0) {
		st->stalled_since = now;
		return;
	}
	if (now - st->stalled_since < rte_get_tsc_hz() / 1000 * VF_STALL_MS)
		return;
	c->drop_invalid_packets++;
	c->drop_invalid_bytes += rte_pktmbuf_pkt_len(st->pkts[0]);
	rte_pktmbuf_free(st->pkts[0]);
	stage_consume(st, 1);
	st->stalled_since = 0;
	st->held = st->count > 0;
}

static inline void
vf_transmit(struct relay *r, struct staging *st, struct dir_counters *c)
{
	uint16_t sent;

	sent = rte_eth_tx_burst(r->port, 0, st->pkts, st->count);
	c->tx_packets += sent;
	c->tx_bytes += sum_bytes(st->pkts, sent);
	note_held(st, c, sent < st->count);
	stage_consume(st, sent);
	if (sent > 0 || st->count == 0)
		st->stalled_since = 0;
	else
		vf_drop_stalled(st, c);
}

/*
 * Guest offload requests (checksum, TSO/UFO from the virtio-net header) made
 * fit for the VF's driver, or dropped and counted: a malformed one, such as a
 * tiny gso_size, can make a VF report a malicious driver and reset. Bursts
 * without offload flags, the usual case, skip it.
 */
static inline void
vf_prepare(struct relay *r, struct staging *st, struct dir_counters *c)
{
	uint16_t done = 0, i;

	while (done < st->count) {
		done += rte_eth_tx_prepare(r->port, 0, st->pkts + done, st->count - done);
		if (done == st->count)
			break;
		c->drop_invalid_packets++;
		c->drop_invalid_bytes += rte_pktmbuf_pkt_len(st->pkts[done]);
		rte_pktmbuf_free(st->pkts[done]);
		for (i = done + 1; i < st->count; i++) {
			st->pkts[i - 1] = st->pkts[i];
			st->hash[i - 1] = st->hash[i];
		}
		st->count--;
	}
}

/* Next enabled guest TX queue after the cursor, round-robin. */
static inline int
next_tx_queue(struct relay *r, uint32_t mask)
{
	uint32_t rotated;
	unsigned int q;

	if (mask == 0)
		return -1;
	q = (r->dirs[DIR_VM_TO_VF].tx_q_rr + 1) % MAX_QUEUE_PAIRS;
	rotated = (mask >> q) | (q != 0 ? mask << (MAX_QUEUE_PAIRS - q) : 0);
	q = (q + __builtin_ctz(rotated)) % MAX_QUEUE_PAIRS;
	r->dirs[DIR_VM_TO_VF].tx_q_rr = q;
	return (int)q;
}

/* Returns the number of packets moved; *ready tells whether both sides
 * were present. */
static unsigned int
relay_vm_to_vf(struct relay *r, bool *ready)
{
	struct staging *st = &r->dirs[DIR_VM_TO_VF].stage;
	struct dir_counters *c = &r->dirs[DIR_VM_TO_VF].ctr;
	int vid = __atomic_load_n(&r->vid, __ATOMIC_ACQUIRE);
	bool port_ok = __atomic_load_n(&r->port_ready, __ATOMIC_ACQUIRE);
	uint16_t before = st->count, n, i;
	uint64_t bytes = 0, offloads = 0;
	struct rte_mempool *mp;
	int q;

	if (vid >= 0 && port_ok)
		*ready = true;
	if (st->count > 0) {
		if (!port_ok) {
			drop_all(st, c);
		} else {
			vf_transmit(r, st, c);
		}
		if (st->count > 0)
			return before - st->count;
	}
	if (vid < 0)
		return before;
	mp = __atomic_load_n(&r->pool, __ATOMIC_ACQUIRE);
	q = next_tx_queue(r, __atomic_load_n(&r->tx_q_mask, __ATOMIC_ACQUIRE));
	if (q < 0 || mp == NULL)
		return before;
	n = rte_vhost_dequeue_burst(vid, 2 * q + 1, mp, st->pkts, BURST_LEN);
	if (n == 0)
		return before;
	st->count = n;
	c->rx_packets += n;
	for (i = 0; i < n; i++) {
		bytes += rte_pktmbuf_pkt_len(st->pkts[i]);
		offloads |= st->pkts[i]->ol_flags;
	}
	c->rx_bytes += bytes;
	c->queue_packets[q] += n;
	if (!port_ok) {
		drop_all(st, c);
	} else {
		if ((offloads & RTE_MBUF_F_TX_OFFLOAD_MASK) != 0)
			vf_prepare(r, st, c);
		vf_transmit(r, st, c);
	}
	return before + n;
}

/* The k-th enabled queue of a mask. */
static inline unsigned int
nth_queue(uint32_t mask, unsigned int k)
{
	while (k-- > 0)
		mask &= mask - 1;
	return __builtin_ctz(mask);
}

static void
vm_enqueue(struct relay *r, int vid, struct staging *st, struct dir_counters *c)
{
	uint32_t mask = __atomic_load_n(&r->rx_q_mask, __ATOMIC_ACQUIRE);
	unsigned int nq = __builtin_popcount(mask);
	struct rte_mbuf *group[BURST_LEN];
	uint8_t queue_of[BURST_LEN];
	bool sent[BURST_LEN];
	uint16_t i, j, n, done, kept;
	uint64_t bytes;

	if (nq == 0) {
		note_held(st, c, true);
		return;
	}
	/* Queue per packet from the flow hash, as the original: h & (n-1)
	 * for a power of two, else h % n, then the k-th enabled queue. */
	for (i = 0; i < st->count; i++) {
		unsigned int k = 0;

		if (nq > 1)
			k = (nq & (nq - 1)) == 0 ? (st->hash[i] & (nq - 1)) : (st->hash[i] % nq);
		queue_of[i] = nth_queue(mask, k);
		sent[i] = false;
	}
	for (i = 0; i < st->count; i++) {
		unsigned int q = queue_of[i];

		if (sent[i] || queue_of[i] == 0xff)
			continue;
		n = 0;
		for (j = i; j < st->count; j++)
			if (queue_of[j] == q && !sent[j])
				group[n++] = st->pkts[j];
		done = rte_vhost_enqueue_burst(vid, 2 * q, group, n);
		bytes = sum_bytes(group, done);
		c->tx_packets += done;
		c->tx_bytes += bytes;
		c->queue_packets[q] += done;
		/* Mark the first 'done' packets of the group sent; the rest
		 * of this queue stays, so the flow keeps its order. */
		for (j = i; j < st->count; j++) {
			if (queue_of[j] != q || sent[j])
				continue;
			if (done > 0) {
				sent[j] = true;
				rte_pktmbuf_free(st->pkts[j]);
				done--;
			} else {
				queue_of[j] = 0xff;
			}
		}
	}
	kept = 0;
	for (i = 0; i < st->count; i++)
		if (!sent[i])
			kept++;
	note_held(st, c, kept > 0);
	kept = 0;
	for (i = 0; i < st->count; i++)
		if (!sent[i]) {
			st->pkts[kept] = st->pkts[i];
			st->hash[kept] = st->hash[i];
			kept++;
		}
	st->count = kept;
}

static unsigned int
relay_vf_to_vm(struct relay *r, bool *ready)
{
	struct staging *st = &r->dirs[DIR_VF_TO_VM].stage;
	struct dir_counters *c = &r->dirs[DIR_VF_TO_VM].ctr;
	int vid = __atomic_load_n(&r->vid, __ATOMIC_ACQUIRE);
	bool port_ok = __atomic_load_n(&r->port_ready, __ATOMIC_ACQUIRE);
	uint16_t before = st->count, n, i;

	if (vid >= 0 && port_ok)
		*ready = true;
	if (st->count > 0) {
		if (vid < 0) {
			drop_all(st, c);
		} else {
			vm_enqueue(r, vid, st, c);
		}
		if (st->count > 0)
			return before - st->count;
	}
	if (!port_ok)
		return before;
	n = rte_eth_rx_burst(r->port, 0, st->pkts, BURST_LEN);
	if (n == 0)
		return before;
	st->count = n;
	c->rx_packets += n;
	c->rx_bytes += sum_bytes(st->pkts, n);
	if (vid < 0) {
		drop_all(st, c);
		return before + n;
	}
	if (__builtin_popcount(__atomic_load_n(&r->rx_q_mask, __ATOMIC_RELAXED)) > 1)
		for (i = 0; i < n; i++)
			st->hash[i] = flow_hash(st->pkts[i]);
	vm_enqueue(r, vid, st, c);
	return before + n;
}

/* Sleep off-line for RCU, so grace periods do not wait for the sleep. */
static void
worker_sleep(struct worker *w, unsigned int us, uint64_t since)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };

	rte_rcu_qsbr_thread_offline(dp.qsbr, w->lcore);
	nanosleep(&ts, NULL);
	rte_rcu_qsbr_thread_online(dp.qsbr, w->lcore);
	w->idle_cycles += rte_rdtsc() - since;
}

int
worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned int lcore = w->lcore;
	unsigned int empty_polls = 0;
	uint32_t backoff_us = 0;

	/* Sleeps of a few microseconds mean what they say only with a fine
	 * timer slack (50 us by default). */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	while (!dp.stopping) {
		uint64_t t0 = rte_rdtsc(), t1;
		struct task_list *tl = __atomic_load_n(&w->tasks, __ATOMIC_ACQUIRE);
		unsigned int i, moved = 0;
		bool ready = false;

		for (i = 0; i < tl->n; i++) {
			struct task *t = &tl->t[i];

			if (t->dir == DIR_VM_TO_VF)
				moved += relay_vm_to_vf(t->relay, &ready);
			else
				moved += relay_vf_to_vm(t->relay, &ready);
		}
		rte_rcu_qsbr_quiescent(dp.qsbr, lcore);
		t1 = rte_rdtsc();
		w->polls++;
		w->packets += moved;
		if (moved > 0)
			w->busy_cycles += t1 - t0;
		else
			w->idle_cycles += t1 - t0;
		if (!ready) {
			/* Nothing can flow here: do not burn the core. A source
			 * whose peer is absent is drained (and its frames counted
			 * as dropped) once per sleep. */
			worker_sleep(w, IDLE_SLEEP_US, t1);
		} else if (moved > 0) {
			empty_polls = 0;
			backoff_us = 0;
		} else if (dp.opts.idle_sleep_max_us > 0 && ++empty_polls >= IDLE_SPIN_POLLS) {
			/* Idle relays: sleep, twice as long each time nothing
			 * came, up to the bound; the first packet ends it. */
			backoff_us = backoff_us == 0 ? 1 : RTE_MIN(backoff_us * 2, dp.opts.idle_sleep_max_us);
			worker_sleep(w, backoff_us, t1);
		}
	}
	rte_rcu_qsbr_thread_offline(dp.qsbr, lcore);
	rte_rcu_qsbr_thread_unregister(dp.qsbr, lcore);
	return 0;
}
