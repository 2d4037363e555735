/* SPDX-License-Identifier: BSD-3-Clause */

#include <stddef.h>

#include <rte_common.h>
#include <rte_config.h>
#include <rte_log.h>
#include <rte_version.h>

#include "vio4wd.h"

int
vio4wd_abi_version(void)
{
	return VIO4WD_ABI_VERSION;
}

const char *
vio4wd_dpdk_version(void)
{
	return rte_version();
}

const char *
vio4wd_dpdk_origin(void)
{
	return VIO4WD_DPDK_ORIGIN;
}

unsigned int
vio4wd_max_relays(void)
{
	return RTE_MAX_ETHPORTS;
}

unsigned int
vio4wd_max_lcores(void)
{
	return RTE_MAX_LCORE;
}

void
vio4wd_set_log_level(unsigned int level)
{
	/* One store read by every rte_log() call: safe while workers log. */
	rte_log_set_global_level(RTE_MIN(RTE_MAX(level, (unsigned int)RTE_LOG_EMERG),
		(unsigned int)RTE_LOG_DEBUG));
}

#define STRUCT(s) { #s, "", 0, sizeof(struct s) }
#define FIELD(s, f) { #s, #f, offsetof(struct s, f), sizeof(((struct s *)0)->f) }

static const struct vio4wd_field_layout layout[] = {
	STRUCT(vio4wd_options),
	FIELD(vio4wd_options, flags),
	FIELD(vio4wd_options, socket_uid),
	FIELD(vio4wd_options, socket_gid),
	FIELD(vio4wd_options, mbufs_per_relay),
	FIELD(vio4wd_options, idle_sleep_max_us),
	FIELD(vio4wd_options, max_relays),

	STRUCT(vio4wd_direction_stats),
	FIELD(vio4wd_direction_stats, rx_packets),
	FIELD(vio4wd_direction_stats, rx_bytes),
	FIELD(vio4wd_direction_stats, tx_packets),
	FIELD(vio4wd_direction_stats, tx_bytes),
	FIELD(vio4wd_direction_stats, drop_unavail_packets),
	FIELD(vio4wd_direction_stats, drop_unavail_bytes),
	FIELD(vio4wd_direction_stats, held_bursts),
	FIELD(vio4wd_direction_stats, queue_packets),
	FIELD(vio4wd_direction_stats, drop_invalid_packets),
	FIELD(vio4wd_direction_stats, drop_invalid_bytes),

	STRUCT(vio4wd_relay_info),
	FIELD(vio4wd_relay_info, id),
	FIELD(vio4wd_relay_info, flags),
	FIELD(vio4wd_relay_info, vid),
	FIELD(vio4wd_relay_info, port),
	FIELD(vio4wd_relay_info, numa),
	FIELD(vio4wd_relay_info, cpu),
	FIELD(vio4wd_relay_info, pin),
	FIELD(vio4wd_relay_info, queue_pairs),
	FIELD(vio4wd_relay_info, rx_queue_mask),
	FIELD(vio4wd_relay_info, tx_queue_mask),
	FIELD(vio4wd_relay_info, bond_mode),
	FIELD(vio4wd_relay_info, n_members),
	FIELD(vio4wd_relay_info, mbufs_in_use),
	FIELD(vio4wd_relay_info, mbufs_total),
	FIELD(vio4wd_relay_info, features),
	FIELD(vio4wd_relay_info, dev_ipackets),
	FIELD(vio4wd_relay_info, dev_opackets),
	FIELD(vio4wd_relay_info, dev_imissed),
	FIELD(vio4wd_relay_info, dev_ierrors),
	FIELD(vio4wd_relay_info, dev_oerrors),
	FIELD(vio4wd_relay_info, dev_rx_nombuf),
	FIELD(vio4wd_relay_info, socket),
	FIELD(vio4wd_relay_info, device),
	FIELD(vio4wd_relay_info, dir[0]),
	FIELD(vio4wd_relay_info, dir[1]),

	STRUCT(vio4wd_worker_info),
	FIELD(vio4wd_worker_info, lcore),
	FIELD(vio4wd_worker_info, numa),
	FIELD(vio4wd_worker_info, directions),
	FIELD(vio4wd_worker_info, reserved),
	FIELD(vio4wd_worker_info, busy_cycles),
	FIELD(vio4wd_worker_info, idle_cycles),
	FIELD(vio4wd_worker_info, polls),
	FIELD(vio4wd_worker_info, packets),
	FIELD(vio4wd_worker_info, hz),

	STRUCT(vio4wd_event),
	FIELD(vio4wd_event, type),
	FIELD(vio4wd_event, relay),
	FIELD(vio4wd_event, value),
	FIELD(vio4wd_event, time_ns),
};

const struct vio4wd_field_layout *
vio4wd_layout(unsigned int *count)
{
	*count = RTE_DIM(layout);
	return layout;
}
