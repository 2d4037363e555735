/* SPDX-License-Identifier: BSD-3-Clause */
/* A consistent-enough snapshot of one relay for the control plane. */

#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>

#include "dataplane.h"
#include "errors.h"

static void
copy_counters(struct vio4wd_direction_stats *out, const struct dir_counters *c)
{
	unsigned int q;

	/* Written by one worker at a time; 64-bit loads do not tear. */
	out->rx_packets = __atomic_load_n(&c->rx_packets, __ATOMIC_RELAXED);
	out->rx_bytes = __atomic_load_n(&c->rx_bytes, __ATOMIC_RELAXED);
	out->tx_packets = __atomic_load_n(&c->tx_packets, __ATOMIC_RELAXED);
	out->tx_bytes = __atomic_load_n(&c->tx_bytes, __ATOMIC_RELAXED);
	out->drop_unavail_packets = __atomic_load_n(&c->drop_unavail_packets, __ATOMIC_RELAXED);
	out->drop_unavail_bytes = __atomic_load_n(&c->drop_unavail_bytes, __ATOMIC_RELAXED);
	out->drop_invalid_packets = __atomic_load_n(&c->drop_invalid_packets, __ATOMIC_RELAXED);
	out->drop_invalid_bytes = __atomic_load_n(&c->drop_invalid_bytes, __ATOMIC_RELAXED);
	out->held_bursts = __atomic_load_n(&c->held_bursts, __ATOMIC_RELAXED);
	for (q = 0; q < MAX_QUEUE_PAIRS; q++)
		out->queue_packets[q] = __atomic_load_n(&c->queue_packets[q], __ATOMIC_RELAXED);
}

int
vio4wd_relay_get(unsigned int relay, struct vio4wd_relay_info *info)
{
	struct rte_eth_stats st;
	struct relay *r;
	int d, ret;

	ret = dp_begin(relay, &r);
	if (ret < 0)
		return ret;
	if (info == NULL)
		return set_error(EINVAL, "no buffer for relay %u", relay);
	memset(info, 0, sizeof(*info));
	dp_lock();
	info->id = r->id;
	info->flags = (r->socket_registered ? VIO4WD_RELAY_SOCKET : 0) |
		(r->client_mode ? VIO4WD_RELAY_CLIENT : 0) |
		(r->vid >= 0 ? VIO4WD_RELAY_VM_CONNECTED : 0) |
		(r->has_device ? VIO4WD_RELAY_DEVICE : 0) |
		(r->is_bond ? VIO4WD_RELAY_BOND : 0) |
		(__atomic_load_n(&r->device_failed, __ATOMIC_ACQUIRE) ? VIO4WD_RELAY_DEVICE_FAILED : 0) |
		(r->lm_pending ? VIO4WD_RELAY_LIVE_MIGRATION : 0) |
		(r->port_ready ? VIO4WD_RELAY_PORT_STARTED : 0);
	info->vid = r->vid;
	info->port = r->has_device ? r->port : -1;
	info->numa = r->numa;
	for (d = 0; d < DIR_COUNT; d++) {
		info->cpu[d] = r->cpu[d];
		info->pin[d] = r->pin[d];
		copy_counters(&info->dir[d], &r->dirs[d].ctr);
	}
	info->queue_pairs = r->queue_pairs;
	info->rx_queue_mask = __atomic_load_n(&r->rx_q_mask, __ATOMIC_RELAXED);
	info->tx_queue_mask = __atomic_load_n(&r->tx_q_mask, __ATOMIC_RELAXED);
	info->bond_mode = r->bond_mode;
	info->n_members = r->is_bond ? r->n_members : 0;
	if (r->pool != NULL) {
		info->mbufs_total = r->pool->size;
		info->mbufs_in_use = rte_mempool_in_use_count(r->pool);
	}
	info->features = r->features;
	if (r->has_device && rte_eth_stats_get(r->port, &st) == 0) {
		info->dev_ipackets = st.ipackets;
		info->dev_opackets = st.opackets;
		info->dev_imissed = st.imissed;
		info->dev_ierrors = st.ierrors;
		info->dev_oerrors = st.oerrors;
		info->dev_rx_nombuf = st.rx_nombuf;
	}
	memcpy(info->socket, r->socket, sizeof(info->socket));
	memcpy(info->device, r->device, sizeof(info->device));
	dp_unlock();
	return 0;
}
