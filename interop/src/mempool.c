/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mbuf pools: one per relay, created on the NUMA node of the side that
 * came first, sized for a bond's members, moved to the VM's node when the
 * VM is elsewhere, and freed once neither side needs it.
 */

#include <errno.h>
#include <stdio.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane.h"
#include "errors.h"

/*
 * Sized by what a VF port can hold at once, so that 256 relays fit in the
 * hugepages the original needed for 64: its RX ring full, its TX ring full,
 * the per-lcore caches of the two workers and the control thread (1.5 x the
 * cache size each before they flush) and a few bursts staged towards either
 * side: 512 + 512 + 3 x 192 + 2 x 32 = 1664, rounded up to 2^11 - 1 (a
 * mempool's best size); with 9 KiB buffers 256 + 256 + 3 x 96 + 2 x 32 = 864
 * in 2^10 - 1. A relay short of mbufs drops and counts; it does not stall.
 */
#define DEFAULT_MBUFS 2047
#define MEMPOOL_CACHE 128
#define LARGE_MBUFS 1023
#define LARGE_MEMPOOL_CACHE 64
/* MTU + 22 bytes of L2 overhead + headroom + 32 bytes of VF RX offset,
 * as the original sized them. */
#define DEFAULT_MBUF_SIZE (2100 + 22 + RTE_PKTMBUF_HEADROOM + 32)
#define JUMBO_MBUF_SIZE (9000 + 22 + RTE_PKTMBUF_HEADROOM + 32)

/* A bond's members each have rings of their own: n_members x 2048 - 1. */
unsigned int
bond_pool_size(const struct relay *r)
{
	unsigned int n = dp.opts.mbufs_per_relay != 0 ? dp.opts.mbufs_per_relay :
		dp_large_buffers() ? LARGE_MBUFS : DEFAULT_MBUFS;

	return r->is_bond && r->n_members > 1 ? r->n_members * (n + 1) - 1 : n;
}

static struct rte_mempool *
create_pool(struct relay *r, int numa)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	unsigned int n = bond_pool_size(r);
	uint16_t size = dp_large_buffers() ? JUMBO_MBUF_SIZE : DEFAULT_MBUF_SIZE;
	unsigned int cache = dp_large_buffers() ? LARGE_MEMPOOL_CACHE : MEMPOOL_CACHE;

	snprintf(name, sizeof(name), "vio4wd_r%u_%u", r->id, r->pool_gen++);
	return rte_pktmbuf_pool_create(name, n, RTE_MIN(cache, n / 2), 0, size,
		numa >= 0 ? numa : SOCKET_ID_ANY);
}

int
dp_ensure_pool(struct relay *r, int numa)
{
	struct rte_mempool *mp;

	if (r->pool != NULL)
		return 0;
	mp = create_pool(r, numa);
	if (mp == NULL && numa >= 0) {
		RTE_LOG(WARNING, USER1, "relay %u: no memory on NUMA node %d, using any node\n",
			r->id, numa);
		mp = create_pool(r, -1);
	}
	if (mp == NULL)
		return set_error(ENOMEM, "relay %u: cannot create its mbuf pool: %s",
			r->id, rte_strerror(rte_errno));
	r->numa = mp->socket_id == SOCKET_ID_ANY ? -1 : mp->socket_id;
	__atomic_store_n(&r->pool, mp, __ATOMIC_RELEASE);
	return 0;
}

void
dp_release_pool_if_unused(struct relay *r)
{
	struct rte_mempool *mp = r->pool;

	if (mp == NULL || r->has_device || r->vid >= 0 || r->cpu[DIR_VM_TO_VF] >= 0 ||
	    r->cpu[DIR_VF_TO_VM] >= 0)
		return;
	__atomic_store_n(&r->pool, NULL, __ATOMIC_RELEASE);
	dp_synchronize();
	rte_mempool_free(mp);
	r->numa = -1;
}

/*
 * Give a relay a new mempool on a NUMA node. Both directions pause for the
 * swap: they leave their workers, the port stops and its queues are set up
 * again on the new pool, and only then is the old pool freed.
 */
int
dp_move_pool(struct relay *r, int node)
{
	struct rte_mempool *old = r->pool;
	bool had_port = r->has_device && r->port_ready;
	enum dir d;
	int ret;

	__atomic_store_n(&r->port_ready, false, __ATOMIC_RELEASE);
	for (d = 0; d < DIR_COUNT; d++)
		dp_unplace(r, d);
	dp_synchronize();
	for (d = 0; d < DIR_COUNT; d++)
		dp_drop_staged(r, d);
	if (had_port)
		rte_eth_dev_stop(r->port);
	r->pool = NULL;
	ret = dp_ensure_pool(r, node);
	if (ret < 0)
		r->pool = old;
	if (had_port) {
		if (device_restart_port(r) == 0)
			__atomic_store_n(&r->port_ready, true, __ATOMIC_RELEASE);
		dp_place(r, DIR_VF_TO_VM);
	}
	if (r->vid >= 0)
		dp_place(r, DIR_VM_TO_VF);
	if (ret == 0) {
		rte_mempool_free(old);
		event_post(VIO4WD_EV_MEMPOOL_MOVED, r->id, r->numa);
	}
	return ret;
}

/* Align a relay's mempool with the node of the VM that connected, so packets
 * do not cross the interconnect twice. Called from the vhost-user thread while
 * the VM connects, under the dataplane lock like every other control step. */
int
dp_realign_pool(struct relay *r, int node)
{
	if (r->pool == NULL || node < 0 || node == r->numa)
		return 0;
	RTE_LOG(NOTICE, USER1,
		"relay %u: mempool affinity requires change from %d to %d to align with the connecting guest\n",
		r->id, r->numa, node);
	return dp_move_pool(r, node);
}

int
vio4wd_test_move_pool(unsigned int relay, int node)
{
	struct relay *r;
	int ret;

	ret = dp_begin(relay, &r);
	if (ret < 0)
		return ret;
	dp_lock();
	ret = r->pool != NULL ? dp_move_pool(r, node) : set_error(ENOENT, "relay %u has no mempool", relay);
	dp_unlock();
	return ret;
}

