/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The VM side of a relay: one vhost-user socket per relay, in server mode
 * (QEMU connects) or client mode (we connect, and DPDK reconnects after
 * breaks). The callbacks arrive on DPDK's vhost thread; they update the
 * relay under the lock, hand directions to workers, and raise events.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include <rte_vhost.h>

#include "dataplane.h"
#include "errors.h"

#ifndef VHOST_F_LOG_ALL
#define VHOST_F_LOG_ALL 26
#endif

/* The relay serving a socket path (under the lock). */
static struct relay *
relay_with_socket(const char *path)
{
	unsigned int i;

	for (i = 0; i < dp.max_relays; i++) {
		struct relay *r = &dp.relays[i];

		if ((r->socket_registered || r->socket_busy) && strcmp(r->socket, path) == 0)
			return r;
	}
	return NULL;
}

/* The relay whose socket a connection came in on (under the lock). */
static struct relay *
relay_listening_for(int vid)
{
	char path[PATH_MAX];

	return rte_vhost_get_ifname(vid, path, sizeof(path)) == 0 ? relay_with_socket(path) : NULL;
}

/*
 * The relay of a connection: the one lookup from a vid, set when the
 * connection came in. It takes no lock: vring_state_changed and
 * features_changed are called with the vring locks held, and a worker may be
 * spinning on one of those inside an enqueue while the lock holder waits for
 * that worker's grace period. So these callbacks must never wait.
 */
static struct relay *
relay_of_vid(int vid)
{
	int id;

	if (vid < 0 || vid >= MAX_VHOST_DEVICES)
		return NULL;
	id = __atomic_load_n(&dp.vid_relay[vid], __ATOMIC_ACQUIRE);
	return id > 0 ? &dp.relays[id - 1] : NULL;
}

/*
 * One connection per socket: a second one (another process on a server
 * socket that has a VM) is closed at once, with one line, so it can neither
 * flood the log nor take the relay when the first VM resets its device.
 */
static int
on_new_connection(int vid)
{
	struct relay *r;
	int ret = 0;

	dp_lock();
	r = relay_listening_for(vid);
	if (r != NULL && r->pending_vid >= 0) {
		RTE_LOG(ERR, USER1, "relay %u: refusing a second vhost-user connection on '%s' "
			"(vid %d): a VM is already connected\n", r->id, r->socket, vid);
		event_post(VIO4WD_EV_VM_REJECTED, r->id, EBUSY);
		ret = -1;
	} else if (r != NULL && vid >= MAX_VHOST_DEVICES) {
		RTE_LOG(ERR, USER1, "relay %u: refusing vhost-user connection %d on '%s': "
			"more than %d connections\n", r->id, vid, r->socket, MAX_VHOST_DEVICES);
		event_post(VIO4WD_EV_VM_REJECTED, r->id, EMFILE);
		ret = -1;
	} else if (r != NULL) {
		r->pending_vid = vid;
		__atomic_store_n(&r->pending_rx_mask, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&r->pending_tx_mask, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&dp.vid_relay[vid], (int)r->id + 1, __ATOMIC_RELEASE);
	}
	dp_unlock();
	return ret;
}

static void
on_destroy_connection(int vid)
{
	struct relay *r;

	dp_lock();
	r = relay_of_vid(vid);
	if (r != NULL && r->pending_vid == vid) {
		r->pending_vid = -1;
		__atomic_store_n(&r->rejected_vid, -1, __ATOMIC_RELEASE);
		__atomic_store_n(&r->overflow_vid, -1, __ATOMIC_RELEASE);
		__atomic_store_n(&dp.vid_relay[vid], 0, __ATOMIC_RELEASE);
	}
	dp_unlock();
}

static int
on_vring_state_changed(int vid, uint16_t vring, int enable)
{
	unsigned int qp = vring / 2;
	struct relay *r = relay_of_vid(vid);
	uint32_t *mask;

	if (r == NULL)
		return 0;
	if (qp >= MAX_QUEUE_PAIRS) {
		/* Without F_STATUS the device may already run with its first
		 * queues; queues we cannot serve mean the guest is not served at
		 * all, rather than some of its flows silently lost. */
		if (enable && __atomic_exchange_n(&r->overflow_vid, vid, __ATOMIC_ACQ_REL) != vid) {
			__atomic_store_n(&r->rx_q_mask, 0, __ATOMIC_RELEASE);
			__atomic_store_n(&r->tx_q_mask, 0, __ATOMIC_RELEASE);
			if (__atomic_exchange_n(&r->rejected_vid, vid, __ATOMIC_ACQ_REL) != vid) {
				RTE_LOG(ERR, USER1, "relay %u: refusing VM connection (vid %d): "
					"more than %d queue pairs\n", r->id, vid, MAX_QUEUE_PAIRS);
				event_post(VIO4WD_EV_VM_REJECTED, r->id, E2BIG);
			}
		}
		return 0;
	}
	/* Even vrings are the guest's RX queues (VF -> VM), odd its TX. */
	mask = (vring & 1) == 0 ? &r->pending_rx_mask : &r->pending_tx_mask;
	if (enable)
		__atomic_fetch_or(mask, 1u << qp, __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(mask, ~(1u << qp), __ATOMIC_RELEASE);
	if (__atomic_load_n(&r->vid, __ATOMIC_ACQUIRE) == vid &&
	    __atomic_load_n(&r->overflow_vid, __ATOMIC_ACQUIRE) != vid) {
		__atomic_store_n(&r->rx_q_mask, __atomic_load_n(&r->pending_rx_mask, __ATOMIC_ACQUIRE),
			__ATOMIC_RELEASE);
		__atomic_store_n(&r->tx_q_mask, __atomic_load_n(&r->pending_tx_mask, __ATOMIC_ACQUIRE),
			__ATOMIC_RELEASE);
	}
	event_post(VIO4WD_EV_QUEUE_STATE, r->id, (int64_t)vring << 1 | (enable ? 1 : 0));
	return 0;
}

static int
reject(struct relay *r, int vid, int err, const char *why)
{
	/* Also set from on_vring_state_changed, which cannot take the lock. */
	if (__atomic_exchange_n(&r->rejected_vid, vid, __ATOMIC_ACQ_REL) == vid)
		return -1;
	RTE_LOG(ERR, USER1, "relay %u: refusing VM connection (vid %d): %s\n", r->id, vid, why);
	event_post(VIO4WD_EV_VM_REJECTED, r->id, err);
	return -1;
}

static int
on_new_device(int vid)
{
	uint16_t vrings, i;
	struct relay *r;
	int node, ret;

	dp_lock();
	r = relay_of_vid(vid);
	if (r == NULL) {
		/* Not the connection the relay took: a second one on its socket. */
		r = relay_listening_for(vid);
		ret = r != NULL ? reject(r, vid, EBUSY, "a VM is already connected (one connection per socket)") : -1;
		dp_unlock();
		return ret;
	}
	if (r->vid >= 0) {
		ret = reject(r, vid, EBUSY, "a VM is already connected (one connection per socket)");
		dp_unlock();
		return ret;
	}
	vrings = rte_vhost_get_vring_num(vid);
	if (vrings / 2 > MAX_QUEUE_PAIRS ||
	    __atomic_load_n(&r->overflow_vid, __ATOMIC_ACQUIRE) == vid) {
		ret = reject(r, vid, E2BIG, "more than 32 queue pairs");
		dp_unlock();
		return ret;
	}
	/* Workers poll: the guest need not kick us. */
	for (i = 0; i < vrings; i++)
		rte_vhost_enable_guest_notification(vid, i, 0);

	node = rte_vhost_get_numa_node(vid);
	if (r->pool == NULL) {
		if (dp_ensure_pool(r, node) < 0) {
			ret = reject(r, vid, ENOMEM, vio4wd_last_error());
			dp_unlock();
			return ret;
		}
	} else if (node >= 0 && r->numa >= 0 && node != r->numa) {
		/* Before the VM's direction is placed: only the VF's pauses. */
		dp_realign_pool(r, node);
	}
	r->queue_pairs = vrings / 2;
	rte_vhost_get_negotiated_features(vid, &r->features);
	r->lm_pending = false;
	r->pending_vid = vid;
	__atomic_store_n(&r->rx_q_mask, __atomic_load_n(&r->pending_rx_mask, __ATOMIC_ACQUIRE),
		__ATOMIC_RELEASE);
	__atomic_store_n(&r->tx_q_mask, __atomic_load_n(&r->pending_tx_mask, __ATOMIC_ACQUIRE),
		__ATOMIC_RELEASE);
	__atomic_store_n(&r->vid, vid, __ATOMIC_RELEASE);
	ret = dp_place(r, DIR_VM_TO_VF);
	dp_unlock();
	if (ret < 0)
		RTE_LOG(ERR, USER1, "relay %u: %s\n", r->id, vio4wd_last_error());
	event_post(VIO4WD_EV_VM_CONNECTED, r->id, vid);
	return 0;
}

static void
on_destroy_device(int vid)
{
	struct relay *r;

	dp_lock();
	r = relay_of_vid(vid);
	if (r == NULL || r->vid != vid) {
		dp_unlock();
		return;
	}
	/* After the grace period (the one that takes the direction off its
	 * worker, if it ran) no worker is inside a burst on this vid. */
	__atomic_store_n(&r->vid, -1, __ATOMIC_RELEASE);
	if (!dp_unplace(r, DIR_VM_TO_VF))
		dp_synchronize();
	dp_drop_staged(r, DIR_VM_TO_VF);
	__atomic_store_n(&r->rx_q_mask, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&r->tx_q_mask, 0, __ATOMIC_RELEASE);
	r->queue_pairs = 0;
	r->features = 0;
	r->lm_pending = false;
	dp_release_pool_if_unused(r);
	dp_unlock();
	event_post(VIO4WD_EV_VM_DISCONNECTED, r->id, vid);
}

static int
on_features_changed(int vid, uint64_t features)
{
	bool logging = (features & (1ULL << VHOST_F_LOG_ALL)) != 0;
	struct relay *r = relay_of_vid(vid);

	/* Vring locks held: no waiting here (see relay_of_vid). */
	if (r == NULL || __atomic_load_n(&r->vid, __ATOMIC_ACQUIRE) != vid)
		return 0;
	__atomic_store_n(&r->features, features, __ATOMIC_RELAXED);
	if (__atomic_exchange_n(&r->lm_pending, logging, __ATOMIC_ACQ_REL) != logging) {
		RTE_LOG(NOTICE, USER1, "relay %u: VHOST_F_LOG_ALL is %s: live migration %s\n",
			r->id, logging ? "set" : "cleared", logging ? "is being initiated" : "ended");
		event_post(VIO4WD_EV_LIVE_MIGRATION, r->id, logging ? 1 : 0);
	}
	return 0;
}

static const struct rte_vhost_device_ops vhost_ops = {
	.new_device = on_new_device,
	.destroy_device = on_destroy_device,
	.vring_state_changed = on_vring_state_changed,
	.features_changed = on_features_changed,
	.new_connection = on_new_connection,
	.destroy_connection = on_destroy_connection,
};

/* A socket nobody listens on: a previous run's, safe to replace. One that
 * answers belongs to a live process (maybe a system service's) and stays. */
static bool
socket_is_stale(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	bool stale;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return false;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	stale = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 &&
		errno == ECONNREFUSED;
	close(fd);
	return stale;
}

static int
check_socket_path(unsigned int relay, const char *path, bool client)
{
	struct relay *other;
	struct stat st;

	if (path == NULL || path[0] != '/')
		return set_error(EINVAL, "vhost-user socket path '%s' is not absolute",
			path != NULL ? path : "");
	if (strlen(path) >= VIO4WD_PATH_LEN)
		return set_error(ENAMETOOLONG,
			"vhost-user socket path '%s' is longer than %d characters", path,
			VIO4WD_PATH_LEN - 1);
	if ((other = relay_with_socket(path)) != NULL)
		return set_error(EEXIST, "socket '%s' is already used by relay %u", path, other->id);
	if (client || lstat(path, &st) != 0)
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return set_error(EEXIST, "'%s' exists and is not a socket", path);
	if (!socket_is_stale(path))
		return set_error(EADDRINUSE,
			"'%s' is a socket another process listens on; leaving it alone", path);
	if (unlink(path) != 0)
		return set_error(errno, "cannot delete stale socket '%s': %s", path,
			strerror(errno));
	RTE_LOG(INFO, USER1, "relay %u: deleted stale unix socket '%s'\n", relay, path);
	return 0;
}

static int
start_vhost_driver(const char *path, bool client)
{
	uint64_t disabled = 1ULL << VIRTIO_NET_F_CTRL_RX;

	if (rte_vhost_driver_register(path, client ? RTE_VHOST_USER_CLIENT : 0) != 0)
		return set_error(EIO, "cannot register vhost-user socket '%s'", path);
	if ((dp.opts.flags & VIO4WD_OPT_MRGBUF) == 0)
		disabled |= 1ULL << VIRTIO_NET_F_MRG_RXBUF;
	/* Without TSO the guest is asked for no offload at all: it sends
	 * whole, checksummed frames, which any VF takes as they are. */
	if ((dp.opts.flags & VIO4WD_OPT_TSO) == 0)
		disabled |= (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) |
			(1ULL << VIRTIO_NET_F_HOST_UFO) | (1ULL << VIRTIO_NET_F_HOST_ECN) |
			(1ULL << VIRTIO_NET_F_CSUM);
	if (rte_vhost_driver_disable_features(path, disabled) != 0)
		RTE_LOG(WARNING, USER1, "cannot mask features on '%s'\n", path);
	if (rte_vhost_driver_callback_register(path, &vhost_ops) != 0 ||
	    rte_vhost_driver_start(path) != 0) {
		rte_vhost_driver_unregister(path);
		return set_error(EIO, "cannot start vhost-user socket '%s'", path);
	}
	return 0;
}

int
vio4wd_relay_register_socket(unsigned int relay, const char *path, int client)
{
	struct relay *r;
	int ret;

	ret = dp_begin(relay, &r);
	if (ret < 0)
		return ret;
	dp_lock();
	if (r->socket_registered || r->socket_busy) {
		dp_unlock();
		return set_error(EEXIST, "relay %u already has socket '%s'", relay, r->socket);
	}
	ret = check_socket_path(relay, path, client != 0);
	if (ret < 0) {
		dp_unlock();
		return ret;
	}
	snprintf(r->socket, sizeof(r->socket), "%s", path);
	r->client_mode = client != 0;
	r->socket_busy = true;
	dp_unlock();

	/* Without the lock: the vhost thread may need it for a callback
	 * while DPDK waits for that thread. */
	ret = start_vhost_driver(path, client != 0);

	dp_lock();
	r->socket_busy = false;
	if (ret < 0) {
		r->socket[0] = '\0';
		dp_unlock();
		return ret;
	}
	r->socket_registered = true;
	/* The socket we just bound, never what a link put in its place; its
	 * mode is ours to say, not the umask's: the owner (QEMU) and the group
	 * connect, nobody else. */
	if (!r->client_mode) {
		if ((dp.opts.socket_uid >= 0 || dp.opts.socket_gid >= 0) &&
		    fchownat(AT_FDCWD, path, dp.opts.socket_uid, dp.opts.socket_gid,
			     AT_SYMLINK_NOFOLLOW) != 0)
			RTE_LOG(WARNING, USER1, "cannot chown '%s' to %d:%d: %s\n", path,
				dp.opts.socket_uid, dp.opts.socket_gid, strerror(errno));
		if (fchmodat(AT_FDCWD, path, S_IRUSR | S_IWUSR | S_IRGRP | S_IWGRP,
			     AT_SYMLINK_NOFOLLOW) != 0)
			RTE_LOG(WARNING, USER1, "cannot chmod '%s' to 0660: %s\n", path,
				strerror(errno));
	}
	dp_unlock();
	event_post(VIO4WD_EV_SOCKET_REGISTERED, relay, 0);
	return 0;
}

int
vio4wd_relay_unregister_socket(unsigned int relay)
{
	char path[VIO4WD_PATH_LEN];
	struct relay *r;
	int ret;

	ret = dp_begin(relay, &r);
	if (ret < 0)
		return ret;
	dp_lock();
	if (!r->socket_registered || r->socket_busy) {
		dp_unlock();
		return set_error(ENOENT, "relay %u has no socket", relay);
	}
	r->socket_busy = true;
	snprintf(path, sizeof(path), "%s", r->socket);
	dp_unlock();

	/* Disconnects the VM first (destroy_device runs on this thread). */
	ret = rte_vhost_driver_unregister(path);

	dp_lock();
	r->socket_busy = false;
	r->socket_registered = false;
	r->socket[0] = '\0';
	if (r->pending_vid >= 0 && r->pending_vid < MAX_VHOST_DEVICES)
		__atomic_store_n(&dp.vid_relay[r->pending_vid], 0, __ATOMIC_RELEASE);
	r->pending_vid = -1;
	dp_unlock();
	if (ret != 0)
		RTE_LOG(WARNING, USER1, "relay %u: unregistering '%s' failed\n", relay, path);
	event_post(VIO4WD_EV_SOCKET_UNREGISTERED, relay, 0);
	return 0;
}
