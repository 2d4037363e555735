/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libvio4wd: the native dataplane of vio4wd, called from C# (Vio4wd.Dataplane).
 *
 * Conventions of this ABI:
 *  - Functions returning int return 0 on success and a negative errno value
 *    on failure; vio4wd_last_error() then describes the failure in words.
 *  - The error text is per thread: read it on the thread that made the call.
 *  - DPDK control calls are not thread-safe: call every function that touches
 *    the EAL from one control thread.
 */

#ifndef VIO4WD_H
#define VIO4WD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VIO4WD_API __attribute__((visibility("default")))

/* Bumped whenever a signature below changes; C# refuses a mismatch. */
#define VIO4WD_ABI_VERSION 9

VIO4WD_API int vio4wd_abi_version(void);

/* Version string of the DPDK the library runs against, e.g. "DPDK 22.11.11". */
VIO4WD_API const char *vio4wd_dpdk_version(void);
/* Where that DPDK came from: our build of Debian's source package, or
 * Debian's own static archives (libdpdk-dev). */
VIO4WD_API const char *vio4wd_dpdk_origin(void);

/* Most relays this DPDK build allows (RTE_MAX_ETHPORTS): the upper bound
 * of vio4wd_options.max_relays. */
VIO4WD_API unsigned int vio4wd_max_relays(void);

/* Highest number of lcores this DPDK build allows (RTE_MAX_LCORE). */
VIO4WD_API unsigned int vio4wd_max_lcores(void);

/* Set DPDK's global log level (RTE_LOG_EMERG 1 .. RTE_LOG_DEBUG 8) at runtime. */
VIO4WD_API void vio4wd_set_log_level(unsigned int level);

/*
 * Initialise the DPDK EAL with the given arguments (argv[0] is the program
 * name). The EAL can be initialised once per process: a second call fails
 * with -EALREADY, also after vio4wd_eal_cleanup().
 */
VIO4WD_API int vio4wd_eal_init(int argc, const char *const argv[]);

/* 1 once vio4wd_eal_init() succeeded and until vio4wd_eal_cleanup(). */
VIO4WD_API int vio4wd_eal_is_initialized(void);

/* Main lcore id of the running EAL, or -ENODEV when it is not running. */
VIO4WD_API int vio4wd_eal_main_lcore(void);

/* Release the EAL's resources (hugepages, runtime files, threads). */
VIO4WD_API int vio4wd_eal_cleanup(void);

/* ---------------------------------------------------------------------
 * Relay engine. Relay ids are 0 .. vio4wd_max_relays() - 1. A relay joins
 * one VF device (or a bond of up to 8) and one vhost-user socket.
 * The worker lcores are the EAL's worker lcores; the main lcore forwards
 * nothing.
 * ------------------------------------------------------------------ */

#define VIO4WD_MAX_QUEUE_PAIRS 32
#define VIO4WD_MAX_BOND_MEMBERS 8
#define VIO4WD_PATH_LEN 108     /* sizeof(sockaddr_un.sun_path) */
#define VIO4WD_DEVICE_LEN 512

/* vio4wd_options.flags */
#define VIO4WD_OPT_JUMBO  (1u << 0) /* 9000-byte MTU, 9182-byte mbufs */
#define VIO4WD_OPT_MRGBUF (1u << 1) /* offer VIRTIO_NET_F_MRG_RXBUF */
#define VIO4WD_OPT_TSO    (1u << 2) /* offer HOST_TSO4/6, enable VF TSO */

struct vio4wd_options {
	uint32_t flags;
	int32_t socket_uid;       /* server sockets are chowned to this; -1 keeps */
	int32_t socket_gid;       /* -1 keeps */
	uint32_t mbufs_per_relay; /* 0 = 2047 per VF port (see mempool.c) */
	/* A worker whose relays are up but idle sleeps between polls, the
	 * sleep doubling from 1 us up to this bound, and polls flat out again
	 * from the first packet; 0 = always poll, as the original. */
	uint32_t idle_sleep_max_us;
	/* Relay ids are 0..max_relays-1; 0 = vio4wd_max_relays(). The relay
	 * table and the default sockets scale with it. */
	uint32_t max_relays;
};

/* Start one worker per EAL worker lcore. Needs a running EAL. */
VIO4WD_API int vio4wd_dataplane_start(const struct vio4wd_options *opts);

/* Remove every relay, stop the workers. */
VIO4WD_API int vio4wd_dataplane_stop(void);

/*
 * Attach a device to a relay: one DPDK device string (PCI address or vdev
 * devargs), or 2..8 members of a bond when bond_mode is 0..6 (the bonding
 * PMD's modes). bond_mode -1 means "not a bond". The port starts at once.
 */
VIO4WD_API int vio4wd_relay_attach(unsigned int relay, const char *const devices[],
	unsigned int n_devices, int bond_mode);
VIO4WD_API int vio4wd_relay_detach(unsigned int relay);

/* Register the relay's vhost-user socket; client != 0 connects to a server
 * socket (and reconnects after breaks) instead of listening on it. */
VIO4WD_API int vio4wd_relay_register_socket(unsigned int relay, const char *path, int client);
VIO4WD_API int vio4wd_relay_unregister_socket(unsigned int relay);

/* Pin the VF->VM and VM->VF directions to worker lcores (-1 = automatic);
 * placed directions move at once without losing packets. */
VIO4WD_API int vio4wd_relay_set_cpus(unsigned int relay, int vf_to_vm_cpu, int vm_to_vf_cpu);

/* vio4wd_relay_info.flags */
#define VIO4WD_RELAY_SOCKET         (1u << 0)
#define VIO4WD_RELAY_CLIENT         (1u << 1)
#define VIO4WD_RELAY_VM_CONNECTED   (1u << 2)
#define VIO4WD_RELAY_DEVICE         (1u << 3)
#define VIO4WD_RELAY_BOND           (1u << 4)
#define VIO4WD_RELAY_DEVICE_FAILED  (1u << 5)
#define VIO4WD_RELAY_LIVE_MIGRATION (1u << 6)
#define VIO4WD_RELAY_PORT_STARTED   (1u << 7)

/* Direction indexes in the arrays below. */
#define VIO4WD_VM_TO_VF 0
#define VIO4WD_VF_TO_VM 1

struct vio4wd_direction_stats {
	uint64_t rx_packets;           /* taken from the source side */
	uint64_t rx_bytes;
	uint64_t tx_packets;           /* handed to the destination side */
	uint64_t tx_bytes;
	uint64_t drop_unavail_packets; /* dropped: destination absent */
	uint64_t drop_unavail_bytes;
	uint64_t held_bursts;          /* bursts a full queue held back (retried, not dropped) */
	uint64_t queue_packets[VIO4WD_MAX_QUEUE_PAIRS]; /* per guest queue */
	uint64_t drop_invalid_packets; /* dropped: offload request the VF's driver refused */
	uint64_t drop_invalid_bytes;
};

struct vio4wd_relay_info {
	uint32_t id;
	uint32_t flags;
	int32_t vid;
	int32_t port;
	int32_t numa;
	int32_t cpu[2];                /* indexed by VIO4WD_VM_TO_VF / _VF_TO_VM */
	int32_t pin[2];
	uint32_t queue_pairs;
	uint32_t rx_queue_mask;
	uint32_t tx_queue_mask;
	int32_t bond_mode;
	uint32_t n_members;
	uint32_t mbufs_in_use;
	uint32_t mbufs_total;
	uint64_t features;
	uint64_t dev_ipackets;
	uint64_t dev_opackets;
	uint64_t dev_imissed;
	uint64_t dev_ierrors;
	uint64_t dev_oerrors;
	uint64_t dev_rx_nombuf;
	char socket[VIO4WD_PATH_LEN];
	char device[VIO4WD_DEVICE_LEN];  /* bond members joined by ';' */
	struct vio4wd_direction_stats dir[2];
};

VIO4WD_API int vio4wd_relay_get(unsigned int relay, struct vio4wd_relay_info *info);

struct vio4wd_worker_info {
	uint32_t lcore;
	int32_t numa;
	uint32_t directions;
	uint32_t reserved;
	uint64_t busy_cycles;  /* TSC cycles of polls that moved packets */
	uint64_t idle_cycles;  /* empty polls and sleeps */
	uint64_t polls;
	uint64_t packets;
	uint64_t hz;
};

VIO4WD_API int vio4wd_worker_count(void);
VIO4WD_API int vio4wd_worker_get(unsigned int index, struct vio4wd_worker_info *info);

enum vio4wd_event_type {
	VIO4WD_EV_VM_CONNECTED = 1,      /* value: vid */
	VIO4WD_EV_VM_DISCONNECTED = 2,
	VIO4WD_EV_VM_REJECTED = 3,       /* value: errno */
	VIO4WD_EV_QUEUE_STATE = 4,       /* value: vring << 1 | enabled */
	VIO4WD_EV_DEVICE_ATTACHED = 5,   /* value: port */
	VIO4WD_EV_DEVICE_DETACHED = 6,
	VIO4WD_EV_DEVICE_FAILED = 7,     /* value: port */
	VIO4WD_EV_LINK_CHANGED = 8,      /* value: 1 up, 0 down */
	VIO4WD_EV_LIVE_MIGRATION = 9,    /* value: 1 started, 0 ended */
	VIO4WD_EV_MEMPOOL_MOVED = 10,    /* value: new NUMA node */
	VIO4WD_EV_SOCKET_REGISTERED = 11,
	VIO4WD_EV_SOCKET_UNREGISTERED = 12,
	VIO4WD_EV_LOST = 13,             /* value: events lost to overflow */
};

struct vio4wd_event {
	int32_t type;
	uint32_t relay;
	int64_t value;
	uint64_t time_ns;   /* CLOCK_MONOTONIC */
};

/* Wait for the next event: 1 = *ev filled, 0 = timeout, -ESHUTDOWN once the
 * dataplane stopped. Safe to call from any thread (it is no DPDK call). */
VIO4WD_API int vio4wd_event_wait(struct vio4wd_event *ev, int timeout_ms);

/*
 * Where each field of the structs above lies: the C# declarations are
 * checked against this. One entry per struct (field "", offset 0, its size)
 * followed by one per field in declaration order (array-of-struct fields
 * one entry per element, e.g. "dir[0]").
 */
struct vio4wd_field_layout {
	const char *type;
	const char *field;
	uint32_t offset;
	uint32_t size;
};

VIO4WD_API const struct vio4wd_field_layout *vio4wd_layout(unsigned int *count);


/* Test hook: replace the relay's mempool with a new one on 'node' (-1 any)
 * now, as the NUMA realignment does when a VM connects on another node. */
VIO4WD_API int vio4wd_test_move_pool(unsigned int relay, int node);

/* Test hook: deliver RTE_ETH_EVENT_INTR_RMV for the relay's port as its PMD
 * does when the device is hot-unplugged (a vdev has no hardware to pull). */
VIO4WD_API int vio4wd_test_device_removed(unsigned int relay);

/* Text describing the last failure on the calling thread ("" if none). */
VIO4WD_API const char *vio4wd_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* VIO4WD_H */
