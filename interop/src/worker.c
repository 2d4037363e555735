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
#include "staging.h"

#define IDLE_SLEEP_US 1000
/* Empty polls of ready relays before the first back-off sleep: a few
 * microseconds of spinning, so bursty traffic does not pay for sleeps. */
#define IDLE_SPIN_POLLS 512

/* What one poll of a direction did. */
struct poll {
	unsigned int received;   /* packets taken from the source */
	unsigned int sent;       /* packets the destination took (or dropped) */
	bool ready;              /* both sides were present */
};

/* Count a burst once when the destination first refuses (part of) it. */
static inline void
note_held(struct staging *st, struct dir_counters *c)
{
	bool refused = st->count > 0;

	if (refused && !st->held)
		c->held_bursts++;
	st->held = refused;
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
	stage_drop_invalid(st, c, 0);
	st->stalled_since = 0;
	st->held = st->count > 0;
}

static inline unsigned int
vf_transmit(struct relay *r, struct staging *st, struct dir_counters *c)
{
	uint16_t sent;

	sent = rte_eth_tx_burst(r->port, 0, st->pkts, st->count);
	stage_sent(st, c, sent, false);
	note_held(st, c);
	if (sent > 0 || st->count == 0)
		st->stalled_since = 0;
	else
		vf_drop_stalled(st, c);
	return sent;
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
	uint16_t done = 0;

	while (done < st->count) {
		done += rte_eth_tx_prepare(r->port, 0, st->pkts + done, st->count - done);
		if (done == st->count)
			break;
		stage_drop_invalid(st, c, done);
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

static void
relay_vm_to_vf(struct relay *r, struct poll *p)
{
	struct staging *st = &r->dirs[DIR_VM_TO_VF].stage;
	struct dir_counters *c = &r->dirs[DIR_VM_TO_VF].ctr;
	int vid = __atomic_load_n(&r->vid, __ATOMIC_ACQUIRE);
	bool port_ok = __atomic_load_n(&r->port_ready, __ATOMIC_ACQUIRE);
	uint64_t bytes = 0, offloads = 0;
	struct rte_mempool *mp;
	uint16_t n, i;
	int q;

	if (vid >= 0 && port_ok)
		p->ready = true;
	if (st->count > 0) {
		if (!port_ok) {
			p->sent += st->count;
			stage_drop_all(st, c);
		} else {
			p->sent += vf_transmit(r, st, c);
		}
		if (st->count > 0)
			return;
	}
	if (vid < 0)
		return;
	mp = __atomic_load_n(&r->pool, __ATOMIC_ACQUIRE);
	q = next_tx_queue(r, __atomic_load_n(&r->tx_q_mask, __ATOMIC_ACQUIRE));
	if (q < 0 || mp == NULL)
		return;
	n = rte_vhost_dequeue_burst(vid, 2 * q + 1, mp, st->pkts, BURST_LEN);
	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		bytes += rte_pktmbuf_pkt_len(st->pkts[i]);
		offloads |= st->pkts[i]->ol_flags;
	}
	st->count = n;
	st->bytes = bytes;
	c->rx_packets += n;
	c->rx_bytes += bytes;
	c->queue_packets[q] += n;
	p->received += n;
	if (!port_ok) {
		p->sent += n;
		stage_drop_all(st, c);
		return;
	}
	if ((offloads & RTE_MBUF_F_TX_OFFLOAD_MASK) != 0)
		vf_prepare(r, st, c);
	p->sent += vf_transmit(r, st, c);
}

/* The k-th enabled queue of a mask. */
static inline unsigned int
nth_queue(uint32_t mask, unsigned int k)
{
	while (k-- > 0)
		mask &= mask - 1;
	return __builtin_ctz(mask);
}

/* Enqueue n packets to one guest RX queue; returns how many it took. The
 * vhost library copies them: the caller frees those. */
static inline uint16_t
vm_enqueue_queue(int vid, unsigned int q, struct rte_mbuf **pkts, uint16_t n, struct dir_counters *c)
{
	uint16_t done = rte_vhost_enqueue_burst(vid, 2 * q, pkts, n);

	c->queue_packets[q] += done;
	return done;
}

/*
 * Several guest RX queues: each packet goes to the queue of its flow hash,
 * as the original (h & (n-1) for a power of two, else h % n, then the k-th
 * enabled queue). Packets are grouped per queue in one counting pass; what
 * a full queue refuses stays staged in order, so each flow keeps its order.
 */
static void
vm_enqueue_spread(int vid, uint32_t mask, unsigned int nq, struct staging *st, struct dir_counters *c)
{
	uint16_t end[MAX_QUEUE_PAIRS + 1] = { 0 };
	struct rte_mbuf *group[BURST_LEN];
	uint8_t slot_of[BURST_LEN], k_of[BURST_LEN];
	bool sent[BURST_LEN] = { false };
	uint16_t i, k, start, done, kept = 0;
	uint64_t bytes = 0;

	for (i = 0; i < st->count; i++) {
		k_of[i] = (nq & (nq - 1)) == 0 ? (st->hash[i] & (nq - 1)) : (st->hash[i] % nq);
		end[k_of[i] + 1]++;
	}
	for (k = 1; k <= nq; k++)
		end[k] += end[k - 1];
	/* end[k] is where queue k's group starts; placing a packet moves it
	 * on, so it ends where its group ends. */
	for (i = 0; i < st->count; i++) {
		slot_of[i] = end[k_of[i]]++;
		group[slot_of[i]] = st->pkts[i];
	}
	for (k = 0, start = 0; k < nq; start = end[k], k++) {
		if (end[k] == start)
			continue;
		done = vm_enqueue_queue(vid, nth_queue(mask, k), group + start, end[k] - start, c);
		bytes += sum_bytes(group + start, done);
		rte_pktmbuf_free_bulk(group + start, done);
		for (i = start; i < start + done; i++)
			sent[i] = true;
	}
	for (i = 0; i < st->count; i++) {
		if (sent[slot_of[i]])
			continue;
		st->pkts[kept] = st->pkts[i];
		st->hash[kept] = st->hash[i];
		kept++;
	}
	c->tx_packets += st->count - kept;
	c->tx_bytes += bytes;
	st->bytes -= bytes;
	st->count = kept;
}

/* Returns how many packets the guest took. */
static inline unsigned int
vm_enqueue(struct relay *r, int vid, struct staging *st, struct dir_counters *c)
{
	uint32_t mask = __atomic_load_n(&r->rx_q_mask, __ATOMIC_ACQUIRE);
	unsigned int nq = __builtin_popcount(mask);
	uint16_t before = st->count, done;

	if (nq == 1) {
		/* The usual guest: one queue, the burst as it came. */
		done = vm_enqueue_queue(vid, __builtin_ctz(mask), st->pkts, st->count, c);
		stage_sent(st, c, done, true);
	} else if (nq > 1) {
		vm_enqueue_spread(vid, mask, nq, st, c);
	}
	note_held(st, c);
	return before - st->count;
}

static void
relay_vf_to_vm(struct relay *r, struct poll *p)
{
	struct staging *st = &r->dirs[DIR_VF_TO_VM].stage;
	struct dir_counters *c = &r->dirs[DIR_VF_TO_VM].ctr;
	int vid = __atomic_load_n(&r->vid, __ATOMIC_ACQUIRE);
	bool port_ok = __atomic_load_n(&r->port_ready, __ATOMIC_ACQUIRE);
	uint16_t n, i;

	if (vid >= 0 && port_ok)
		p->ready = true;
	if (st->count > 0) {
		if (vid < 0) {
			p->sent += st->count;
			stage_drop_all(st, c);
		} else {
			p->sent += vm_enqueue(r, vid, st, c);
		}
		if (st->count > 0)
			return;
	}
	if (!port_ok)
		return;
	n = rte_eth_rx_burst(r->port, 0, st->pkts, BURST_LEN);
	if (n == 0)
		return;
	st->count = n;
	st->bytes = sum_bytes(st->pkts, n);
	c->rx_packets += n;
	c->rx_bytes += st->bytes;
	p->received += n;
	if (vid < 0) {
		p->sent += n;
		stage_drop_all(st, c);
		return;
	}
	if (__builtin_popcount(__atomic_load_n(&r->rx_q_mask, __ATOMIC_RELAXED)) > 1)
		for (i = 0; i < n; i++)
			st->hash[i] = flow_hash(st->pkts[i]);
	p->sent += vm_enqueue(r, vid, st, c);
}

/* Sleep off-line for RCU, so grace periods do not wait for the sleep.
 * Returns the time it woke. */
static uint64_t
worker_sleep(struct worker *w, unsigned int us, uint64_t since)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };
	uint64_t now;

	rte_rcu_qsbr_thread_offline(dp.qsbr, w->lcore);
	nanosleep(&ts, NULL);
	rte_rcu_qsbr_thread_online(dp.qsbr, w->lcore);
	now = rte_rdtsc();
	w->idle_cycles += now - since;
	return now;
}

int
worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned int lcore = w->lcore;
	unsigned int empty_polls = 0;
	uint32_t backoff_us = 0;
	uint64_t t0, t1;

	/* Sleeps of a few microseconds mean what they say only with a fine
	 * timer slack (50 us by default). */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	/* One TSC read per poll: a poll ends where the next begins. */
	t0 = rte_rdtsc();
	while (!dp.stopping) {
		struct task_list *tl = __atomic_load_n(&w->tasks, __ATOMIC_ACQUIRE);
		struct poll p = { 0 };
		unsigned int i;

		for (i = 0; i < tl->n; i++) {
			struct task *t = &tl->t[i];

			if (t->dir == DIR_VM_TO_VF)
				relay_vm_to_vf(t->relay, &p);
			else
				relay_vf_to_vm(t->relay, &p);
		}
		rte_rcu_qsbr_quiescent(dp.qsbr, lcore);
		t1 = rte_rdtsc();
		w->polls++;
		w->packets += p.received;
		if (p.received + p.sent > 0)
			w->busy_cycles += t1 - t0;
		else
			w->idle_cycles += t1 - t0;
		t0 = t1;
		if (!p.ready) {
			/* Nothing can flow here: do not burn the core. A source
			 * whose peer is absent is drained (and its frames counted
			 * as dropped) once per sleep. */
			t0 = worker_sleep(w, IDLE_SLEEP_US, t1);
		} else if (p.received + p.sent > 0) {
			empty_polls = 0;
			backoff_us = 0;
		} else if (dp.opts.idle_sleep_max_us > 0 && ++empty_polls >= IDLE_SPIN_POLLS) {
			/* Idle relays: sleep, twice as long each time nothing
			 * came, up to the bound; the first packet ends it. */
			backoff_us = backoff_us == 0 ? 1 : RTE_MIN(backoff_us * 2, dp.opts.idle_sleep_max_us);
			t0 = worker_sleep(w, backoff_us, t1);
		}
	}
	rte_rcu_qsbr_thread_offline(dp.qsbr, lcore);
	rte_rcu_qsbr_thread_unregister(dp.qsbr, lcore);
	return 0;
}
