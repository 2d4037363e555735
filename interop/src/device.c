/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The VF side of a relay: hot-plugging a device (PCI address or vdev
 * devargs) or a bond of devices, configuring its single RX/TX queue pair,
 * and taking it away again while the VM side keeps running.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_eth_bond.h>
#include <rte_ethdev.h>
#include <rte_version.h>

#include "dataplane.h"
#include "devname.h"
#include "errors.h"

/* DPDK 23.11 renamed a bond's slaves to members; one spelling here for 22.11 and 24.11. */
#if RTE_VERSION < RTE_VERSION_NUM(23, 11, 0, 0)
#define rte_eth_bond_member_add rte_eth_bond_slave_add
#define rte_eth_bond_member_remove rte_eth_bond_slave_remove
#endif

#define DEFAULT_MTU 2100
#define JUMBO_MTU 9000

static int
relay_of_port(uint16_t port)
{
	unsigned int i, m;

	for (i = 0; i < dp.max_relays; i++) {
		struct relay *r = &dp.relays[i];

		if (!r->has_device)
			continue;
		if (r->port == port)
			return (int)i;
		for (m = 0; m < r->n_members; m++)
			if (r->members[m] == port)
				return (int)i;
	}
	return -1;
}

/* Probe a device and return its port; it must not be an ethdev yet. */
static int
probe(const char *devargs, uint16_t *port)
{
	char name[RTE_DEV_NAME_MAX_LEN];
	int ret;

	ret = device_name_of(devargs, name, sizeof(name));
	if (ret < 0)
		return ret;
	if (rte_eth_dev_get_port_by_name(name, port) == 0) {
		int owner = relay_of_port(*port);

		if (owner >= 0)
			return set_error(EBUSY, "device '%s' is already attached to relay %d",
				name, owner);
		return set_error(EBUSY, "device '%s' is already in use in this process", name);
	}
	ret = rte_dev_probe(devargs);
	if (ret < 0)
		return set_error(-ret, "cannot probe device '%s': %s", devargs, strerror(-ret));
	if (rte_eth_dev_get_port_by_name(name, port) != 0) {
		uint16_t p;

		/* PCI devices may name their port differently. */
		RTE_ETH_FOREACH_MATCHING_DEV(p, devargs, &(struct rte_dev_iterator){0}) {
			*port = p;
			return 0;
		}
		return set_error(ENODEV, "device '%s' was probed but is not an Ethernet port",
			devargs);
	}
	return 0;
}

static void
unprobe(uint16_t port)
{
	struct rte_eth_dev_info info;
	struct rte_device *dev = NULL;

	if (rte_eth_dev_info_get(port, &info) == 0)
		dev = info.device;
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	if (dev != NULL)
		rte_dev_remove(dev);
}

/* The MTU the original sets (2100, or 9000 with jumbo), or the largest the
 * device takes when that is less (vdevs such as net_memif stop at 1500). */
static uint16_t
device_mtu(uint16_t port, const struct rte_eth_dev_info *info, uint16_t wanted)
{
	uint32_t limit = info->max_mtu;

	if (info->max_rx_pktlen > RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN &&
	    info->max_rx_pktlen - RTE_ETHER_HDR_LEN - RTE_ETHER_CRC_LEN < limit)
		limit = info->max_rx_pktlen - RTE_ETHER_HDR_LEN - RTE_ETHER_CRC_LEN;
	if (limit >= wanted)
		return wanted;
	RTE_LOG(WARNING, USER1, "port %u takes frames up to MTU %u only, not %u\n", port,
		limit, wanted);
	return (uint16_t)limit;
}

static int
configure_port(struct relay *r, uint16_t port, bool set_mtu)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_eth_rxconf rxq;
	struct rte_eth_txconf txq;
	uint16_t ring = dp_large_buffers() ? VF_RING_SIZE_LARGE : VF_RING_SIZE;
	uint16_t nb_rx = ring, nb_tx = ring;
	uint16_t mtu = (dp.opts.flags & VIO4WD_OPT_JUMBO) != 0 ? JUMBO_MTU : DEFAULT_MTU;
	uint64_t want;
	int ret, numa;

	ret = rte_eth_dev_info_get(port, &info);
	if (ret != 0)
		return set_error(-ret, "cannot read device info of port %u", port);
	memset(&conf, 0, sizeof(conf));
	if ((info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_CHECKSUM) == RTE_ETH_RX_OFFLOAD_CHECKSUM)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_CHECKSUM;
	if ((dp.opts.flags & VIO4WD_OPT_JUMBO) != 0)
		conf.rxmode.offloads |= info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER;
	want = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
		RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if ((dp.opts.flags & VIO4WD_OPT_TSO) != 0)
		want |= RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_UDP_TSO;
	conf.txmode.offloads = info.tx_offload_capa & want;
	mtu = device_mtu(port, &info, mtu);
	conf.rxmode.mtu = mtu;

	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret != 0)
		return set_error(-ret, "cannot configure port %u: %s", port, strerror(-ret));
	if (set_mtu) {
		ret = rte_eth_dev_set_mtu(port, mtu);
		if (ret != 0 && ret != -ENOTSUP)
			return set_error(-ret, "cannot set MTU %u on port %u: %s", mtu, port,
				strerror(-ret));
	}
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rx, &nb_tx);
	if (ret != 0)
		return set_error(-ret, "port %u rejects its ring sizes", port);

	numa = r->numa >= 0 ? r->numa : SOCKET_ID_ANY;
	txq = info.default_txconf;
	txq.offloads = conf.txmode.offloads;
	ret = rte_eth_tx_queue_setup(port, 0, nb_tx, numa, &txq);
	if (ret != 0)
		return set_error(-ret, "cannot set up TX queue of port %u: %s", port,
			strerror(-ret));
	rxq = info.default_rxconf;
	rxq.offloads = conf.rxmode.offloads;
	ret = rte_eth_rx_queue_setup(port, 0, nb_rx, numa, &rxq, r->pool);
	if (ret != 0)
		return set_error(-ret, "cannot set up RX queue of port %u: %s", port,
			strerror(-ret));
	/* Guest MACs are not programmed on the VF: take everything. */
	rte_eth_promiscuous_enable(port);
	return 0;
}

static int
attach_bond(struct relay *r, const char *const devices[], unsigned int n, int mode)
{
	int numa = r->numa >= 0 ? r->numa : 0;
	unsigned int i;
	int ret, port;

	snprintf(r->bond_name, sizeof(r->bond_name), "net_bonding_vio4wd%u", r->id);
	port = rte_eth_bond_create(r->bond_name, (uint8_t)mode, (uint8_t)numa);
	if (port < 0) {
		/* No bond and no port of ours: releasing must touch nothing (r->port
		 * may be another relay's port). */
		r->is_bond = false;
		r->bond_name[0] = '\0';
		return set_error(EINVAL, "cannot create bond 'net_bonding_vio4wd%u' in mode %d: %s",
			r->id, mode, rte_strerror(-port));
	}
	r->port = (uint16_t)port;
	for (i = 0; i < n; i++) {
		uint16_t member;

		ret = probe(devices[i], &member);
		if (ret < 0)
			return ret;
		r->members[r->n_members++] = member;
		ret = rte_eth_bond_member_add(r->port, member);
		if (ret != 0)
			return set_error(-ret, "cannot add '%s' to bond '%s': %s", devices[i],
				r->bond_name, rte_strerror(-ret));
	}
	return 0;
}

static void
release_device(struct relay *r)
{
	unsigned int m;

	if (r->is_bond) {
		rte_eth_dev_stop(r->port);
		for (m = 0; m < r->n_members; m++)
			rte_eth_bond_member_remove(r->port, r->members[m]);
		rte_eth_bond_free(r->bond_name);
		for (m = 0; m < r->n_members; m++)
			unprobe(r->members[m]);
	} else if (r->n_members == 1) {
		unprobe(r->port);
	}
	r->n_members = 0;
	r->is_bond = false;
	r->bond_mode = -1;
	r->bond_name[0] = '\0';
	r->has_device = false;
	__atomic_store_n(&r->device_failed, false, __ATOMIC_RELEASE);
	r->device[0] = '\0';
}


static int
validate_attach(struct relay *r, unsigned int relay, const char *const devices[],
	unsigned int n, int bond_mode)
{
	unsigned int i;

	if (devices == NULL || n == 0)
		return set_error(EINVAL, "no device given for relay %u", relay);
	if (n > MAX_BOND_MEMBERS)
		return set_error(EINVAL, "a bond has at most %d members, %u given",
			MAX_BOND_MEMBERS, n);
	if (bond_mode < -1 || bond_mode > 6)
		return set_error(EINVAL, "bond mode %d is not one of 0..6", bond_mode);
	if (n > 1 && bond_mode < 0)
		return set_error(EINVAL, "%u devices given for relay %u without a bond mode",
			n, relay);
	for (i = 0; i < n; i++)
		if (devices[i] == NULL || devices[i][0] == '\0')
			return set_error(EINVAL, "device %u of relay %u is empty", i, relay);
	if (r->has_device)
		return set_error(EEXIST, "relay %u already has device '%s'", relay, r->device);
	return 0;
}

static void
record_device_name(struct relay *r, const char *const devices[], unsigned int n)
{
	size_t used = 0;
	unsigned int i;

	r->device[0] = '\0';
	for (i = 0; i < n && used < sizeof(r->device); i++)
		used += snprintf(r->device + used, sizeof(r->device) - used, "%s%s",
			i > 0 ? ";" : "", devices[i]);
}

int
vio4wd_relay_attach(unsigned int relay, const char *const devices[], unsigned int n,
	int bond_mode)
{
	struct relay *r;
	int ret;

	ret = dp_begin(relay, &r);
	if (ret == 0)
		ret = validate_attach(r, relay, devices, n, bond_mode);
	if (ret < 0)
		return ret;

	dp_lock();
	r->has_device = true;
	r->is_bond = bond_mode >= 0;
	r->bond_mode = bond_mode;
	record_device_name(r, devices, n);
	if (r->is_bond) {
		ret = attach_bond(r, devices, n, bond_mode);
	} else {
		ret = probe(devices[0], &r->port);
		if (ret == 0)
			r->members[r->n_members++] = r->port;
	}
	if (ret == 0 && r->numa < 0 && r->pool == NULL) {
		int node = rte_eth_dev_socket_id(r->port);

		if (r->pin[DIR_VF_TO_VM] >= 0)
			node = (int)rte_lcore_to_socket_id(r->pin[DIR_VF_TO_VM]);
		ret = dp_ensure_pool(r, node);
	}
	if (ret == 0 && r->is_bond && r->pool != NULL && r->pool->size < bond_pool_size(r))
		ret = dp_move_pool(r, r->numa); /* the VM came first: grow its pool for the bond */
	if (ret == 0)
		ret = configure_port(r, r->port, !r->is_bond);
	if (ret == 0) {
		ret = rte_eth_dev_start(r->port);
		if (ret != 0)
			ret = set_error(-ret, "cannot start port %u of relay %u: %s", r->port,
				relay, strerror(-ret));
	}
	if (ret == 0) {
		__atomic_store_n(&r->port_ready, true, __ATOMIC_RELEASE);
		ret = dp_place(r, DIR_VF_TO_VM);
	}
	if (ret < 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", vio4wd_last_error());
		__atomic_store_n(&r->port_ready, false, __ATOMIC_RELEASE);
		dp_synchronize();
		release_device(r);
		dp_release_pool_if_unused(r);
		dp_unlock();
		return set_error(-ret, "%s", why);
	}
	dp_unlock();
	event_post(VIO4WD_EV_DEVICE_ATTACHED, relay, r->port);
	return 0;
}

int
vio4wd_relay_detach(unsigned int relay)
{
	struct relay *r;
	int ret;

	ret = dp_begin(relay, &r);
	if (ret < 0)
		return ret;
	dp_lock();
	if (!r->has_device) {
		dp_unlock();
		return set_error(ENOENT, "relay %u has no device", relay);
	}
	/* No worker may be inside a burst on the port when it stops: the
	 * grace period that takes the direction off its worker covers the
	 * retracted port too. */
	__atomic_store_n(&r->port_ready, false, __ATOMIC_RELEASE);
	if (!dp_unplace(r, DIR_VF_TO_VM))
		dp_synchronize();
	dp_drop_staged(r, DIR_VF_TO_VM);
	release_device(r);
	dp_release_pool_if_unused(r);
	dp_unlock();
	event_post(VIO4WD_EV_DEVICE_DETACHED, relay, 0);
	return 0;
}

static int
on_port_event(uint16_t port, enum rte_eth_event_type type, void *arg, void *ret_param)
{
	struct rte_eth_link link;
	int relay;

	/*
	 * No relay lock here: this runs on the interrupt or alarm thread, and
	 * also synchronously inside ethdev calls the control thread makes with
	 * the lock held (a bond member's link change); the control thread also
	 * cancels the bonding PMD's link-status alarm with the lock held, which
	 * waits for this very callback. So the flag is an atomic store, read
	 * with an atomic load, and the relay learns of it from the event.
	 */
	relay = relay_of_port(port);
	if (relay < 0)
		return 0;
	if (type == RTE_ETH_EVENT_INTR_RMV) {
		__atomic_store_n(&dp.relays[relay].device_failed, true, __ATOMIC_RELEASE);
		event_post(VIO4WD_EV_DEVICE_FAILED, relay, port);
	} else if (type == RTE_ETH_EVENT_INTR_LSC) {
		if (rte_eth_link_get_nowait(port, &link) == 0)
			event_post(VIO4WD_EV_LINK_CHANGED, relay, link.link_status);
	}
	return 0;
}

int
vio4wd_test_device_removed(unsigned int relay)
{
	struct relay *r;
	uint16_t port;
	int ret;

	ret = dp_begin(relay, &r);
	if (ret < 0)
		return ret;
	dp_lock();
	if (!r->has_device) {
		dp_unlock();
		return set_error(ENOENT, "relay %u has no device", relay);
	}
	port = r->port;
	dp_unlock();
	/* As the interrupt thread calls it: without the relay lock. */
	return on_port_event(port, RTE_ETH_EVENT_INTR_RMV, NULL, NULL);
}

int
device_start(void)
{
	rte_eth_dev_callback_register(RTE_ETH_ALL, RTE_ETH_EVENT_INTR_RMV, on_port_event, NULL);
	rte_eth_dev_callback_register(RTE_ETH_ALL, RTE_ETH_EVENT_INTR_LSC, on_port_event, NULL);
	return 0;
}

void
device_stop(void)
{
	rte_eth_dev_callback_unregister(RTE_ETH_ALL, RTE_ETH_EVENT_INTR_RMV, on_port_event, NULL);
	rte_eth_dev_callback_unregister(RTE_ETH_ALL, RTE_ETH_EVENT_INTR_LSC, on_port_event, NULL);
}

/* Set a stopped port up again on its relay's (new) pool and start it. */
int
device_restart_port(struct relay *r)
{
	int ret = configure_port(r, r->port, false);

	if (ret == 0)
		ret = rte_eth_dev_start(r->port);
	return ret;
}
