/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Relay table, workers, task lists and mempools: the parts of the engine
 * that the device and vhost sides share.
 */

#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dataplane.h"
#include "staging.h"
#include "errors.h"


struct dataplane dp = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

void
dp_lock(void)
{
	pthread_mutex_lock(&dp.lock);
}

void
dp_unlock(void)
{
	pthread_mutex_unlock(&dp.lock);
}

struct relay *
dp_relay(unsigned int id)
{
	if (!dp.running || id >= dp.max_relays)
		return NULL;
	return &dp.relays[id];
}

int
dp_begin(unsigned int id, struct relay **r)
{
	clear_error();
	*r = dp_relay(id);
	return *r != NULL ? 0 : dp_no_relay(id);
}

int
dp_no_relay(unsigned int id)
{
	if (!dp.running)
		return set_error(ENODEV, "the dataplane is not running");
	return set_error(ERANGE, "relay %u does not exist (relays are 0..%u)", id,
		dp.max_relays - 1);
}

struct worker *
dp_worker_of_lcore(int lcore)
{
	unsigned int i;

	for (i = 0; i < dp.n_workers; i++)
		if ((int)dp.workers[i].lcore == lcore)
			return &dp.workers[i];
	return NULL;
}

void
dp_synchronize(void)
{
	rte_rcu_qsbr_synchronize(dp.qsbr, RTE_QSBR_THRID_INVALID);
}

int
dp_publish_tasks(void)
{
	struct task_list *old[MAX_WORKERS];
	unsigned int i, r, d;

	for (i = 0; i < dp.n_workers; i++) {
		struct worker *w = &dp.workers[i];
		struct task_list *tl;
		unsigned int n = 0;

		tl = malloc(sizeof(*tl) + sizeof(tl->t[0]) * dp.max_relays * DIR_COUNT);
		if (tl == NULL)
			return set_error(ENOMEM, "out of memory building worker task lists");
		/* VF->VM first: its back-pressure is the tighter loop. */
		for (r = 0; r < dp.max_relays; r++)
			for (d = 0; d < DIR_COUNT; d++)
				if (dp.relays[r].cpu[d] == (int)w->lcore) {
					tl->t[n].relay = &dp.relays[r];
					tl->t[n].dir = d;
					n++;
				}
		tl->n = n;
		old[i] = w->tasks;
		__atomic_store_n(&w->tasks, tl, __ATOMIC_RELEASE);
	}
	dp_synchronize();
	for (i = 0; i < dp.n_workers; i++)
		free(old[i]);
	return 0;
}

/* Weights of the original's placement: VF->VM is assumed ~20 % more
 * expensive than VM->VF. */
static unsigned int
worker_score(const struct worker *w)
{
	unsigned int r, score = 0;

	for (r = 0; r < dp.max_relays; r++) {
		if (dp.relays[r].cpu[DIR_VF_TO_VM] == (int)w->lcore)
			score += 12;
		if (dp.relays[r].cpu[DIR_VM_TO_VF] == (int)w->lcore)
			score += 10;
	}
	return score;
}

static int
pick_worker(const struct relay *r, enum dir d)
{
	struct worker *best = NULL;
	unsigned int i, best_score = UINT_MAX;
	bool numa_local = false;

	if (r->pin[d] >= 0)
		return r->pin[d];
	if (r->numa >= 0)
		for (i = 0; i < dp.n_workers; i++)
			if (dp.workers[i].numa == r->numa)
				numa_local = true;
	for (i = 0; i < dp.n_workers; i++) {
		struct worker *w = &dp.workers[i];
		unsigned int score;

		if (numa_local && w->numa != r->numa)
			continue;
		score = worker_score(w);
		if (score < best_score) {
			best = w;
			best_score = score;
		}
	}
	return best != NULL ? (int)best->lcore : -1;
}

int
dp_place(struct relay *r, enum dir d)
{
	int target = pick_worker(r, d);
	int ret;

	if (target < 0)
		return set_error(ENODEV, "no worker lcore to run relay %u", r->id);
	if (r->cpu[d] == target)
		return 0;
	if (r->cpu[d] >= 0) {
		/* Phase 1: off the old worker, so two workers never share it. */
		r->cpu[d] = -1;
		ret = dp_publish_tasks();
		if (ret < 0)
			return ret;
	}
	r->cpu[d] = target;
	return dp_publish_tasks();
}

bool
dp_unplace(struct relay *r, enum dir d)
{
	if (r->cpu[d] < 0)
		return false;
	r->cpu[d] = -1;
	dp_publish_tasks();
	return true;
}

void
dp_drop_staged(struct relay *r, enum dir d)
{
	stage_drop_all(&r->dirs[d].stage, &r->dirs[d].ctr);
}

static void
relay_reset(struct relay *r, unsigned int id)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->vid = -1;
	r->pending_vid = -1;
	r->rejected_vid = -1;
	r->overflow_vid = -1;
	r->numa = -1;
	r->bond_mode = -1;
	r->cpu[0] = r->cpu[1] = -1;
	r->pin[0] = r->pin[1] = -1;
}

static int
workers_start(void)
{
	unsigned int lcore;
	size_t sz;

	dp.n_workers = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct worker *w;

		if (dp.n_workers == MAX_WORKERS)
			break;
		w = &dp.workers[dp.n_workers++];
		memset(w, 0, sizeof(*w));
		w->lcore = lcore;
		w->numa = (int)rte_lcore_to_socket_id(lcore);
		w->tasks = calloc(1, sizeof(struct task_list));
		if (w->tasks == NULL)
			return set_error(ENOMEM, "out of memory for worker task lists");
	}
	if (dp.n_workers == 0)
		return set_error(EINVAL,
			"the EAL has no worker lcores: give at least one CPU besides the main lcore");

	sz = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);
	dp.qsbr = rte_zmalloc("vio4wd_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (dp.qsbr == NULL || rte_rcu_qsbr_init(dp.qsbr, RTE_MAX_LCORE) != 0)
		return set_error(ENOMEM, "cannot set up the RCU quiescent-state variable");

	dp.stopping = false;
	for (unsigned int i = 0; i < dp.n_workers; i++) {
		struct worker *w = &dp.workers[i];

		/* Registered and online before launch, so no grace period can
		 * complete before the worker has taken its first look. */
		rte_rcu_qsbr_thread_register(dp.qsbr, w->lcore);
		rte_rcu_qsbr_thread_online(dp.qsbr, w->lcore);
		if (rte_eal_remote_launch(worker_main, w, w->lcore) != 0)
			return set_error(EBUSY, "cannot launch the worker on lcore %u", w->lcore);
	}
	return 0;
}

int
vio4wd_dataplane_start(const struct vio4wd_options *opts)
{
	unsigned int i;
	int ret;

	clear_error();
	if (!vio4wd_eal_is_initialized())
		return set_error(ENODEV, "the DPDK EAL is not running");
	if (dp.running)
		return set_error(EALREADY, "the dataplane is already running");
	if (rte_lcore_id() != rte_get_main_lcore())
		return set_error(EPERM, "the dataplane must be started from the EAL main lcore thread");
	if (opts == NULL)
		return set_error(EINVAL, "no options given");

	/* A VM that goes away mid-message must not kill us: the vhost
	 * library writes to its sockets without MSG_NOSIGNAL. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return set_error(errno, "cannot ignore SIGPIPE");

	/* No cache line written by two workers (see struct direction). */
	RTE_BUILD_BUG_ON(sizeof(struct direction) % RTE_CACHE_LINE_SIZE != 0);
	RTE_BUILD_BUG_ON(offsetof(struct relay, dirs) % RTE_CACHE_LINE_SIZE != 0);
	RTE_BUILD_BUG_ON(sizeof(struct relay) % RTE_CACHE_LINE_SIZE != 0);

	if (opts->max_relays > RTE_MAX_ETHPORTS)
		return set_error(EINVAL, "%u relays asked for; this DPDK build allows %u (RTE_MAX_ETHPORTS)",
			opts->max_relays, RTE_MAX_ETHPORTS);
	dp.opts = *opts;
	dp.max_relays = opts->max_relays != 0 ? opts->max_relays : RTE_MAX_ETHPORTS;
	/* Aligned as the struct says: each direction's state has cache lines of its own. */
	dp.relays = aligned_alloc(RTE_CACHE_LINE_SIZE, dp.max_relays * sizeof(struct relay));
	if (dp.relays != NULL)
		memset(dp.relays, 0, dp.max_relays * sizeof(struct relay));
	if (dp.relays == NULL)
		return set_error(ENOMEM, "out of memory for the relay table");
	for (i = 0; i < dp.max_relays; i++)
		relay_reset(&dp.relays[i], i);
	memset(dp.vid_relay, 0, sizeof(dp.vid_relay));

	event_init();
	dp.running = true;
	ret = workers_start();
	if (ret == 0)
		ret = device_start();
	if (ret < 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", vio4wd_last_error());
		vio4wd_dataplane_stop();
		return set_error(-ret, "%s", why);
	}
	return 0;
}

int
vio4wd_dataplane_stop(void)
{
	unsigned int i;

	clear_error();
	if (!dp.running)
		return set_error(ENODEV, "the dataplane is not running");
	for (i = 0; i < dp.max_relays; i++) {
		if (dp.relays[i].socket_registered)
			vio4wd_relay_unregister_socket(i);
		if (dp.relays[i].has_device)
			vio4wd_relay_detach(i);
	}
	device_stop();

	dp.stopping = true;
	rte_eal_mp_wait_lcore();
	for (i = 0; i < dp.n_workers; i++) {
		free(dp.workers[i].tasks);
		dp.workers[i].tasks = NULL;
	}
	for (i = 0; i < dp.max_relays; i++) {
		struct relay *r = &dp.relays[i];

		dp_drop_staged(r, DIR_VM_TO_VF);
		dp_drop_staged(r, DIR_VF_TO_VM);
		if (r->pool != NULL)
			rte_mempool_free(r->pool);
	}
	rte_free(dp.qsbr);
	dp.qsbr = NULL;
	free(dp.relays);
	dp.relays = NULL;
	dp.n_workers = 0;
	dp.running = false;
	event_shutdown();
	return 0;
}

int
vio4wd_relay_set_cpus(unsigned int relay, int vf_to_vm_cpu, int vm_to_vf_cpu)
{
	int want[DIR_COUNT] = { [DIR_VM_TO_VF] = vm_to_vf_cpu, [DIR_VF_TO_VM] = vf_to_vm_cpu };
	struct relay *r;
	int d, ret;

	ret = dp_begin(relay, &r);
	if (ret < 0)
		return ret;
	for (d = 0; d < DIR_COUNT; d++)
		if (want[d] != -1 && dp_worker_of_lcore(want[d]) == NULL)
			return set_error(EINVAL, "CPU %d is not a worker CPU of this forwarder",
				want[d]);
	dp_lock();
	for (d = 0; d < DIR_COUNT && ret == 0; d++) {
		r->pin[d] = want[d];
		if (r->cpu[d] >= 0)
			ret = dp_place(r, d);
	}
	dp_unlock();
	return ret;
}

int
vio4wd_worker_count(void)
{
	return dp.running ? (int)dp.n_workers : set_error(ENODEV, "the dataplane is not running");
}

int
vio4wd_worker_get(unsigned int index, struct vio4wd_worker_info *info)
{
	struct worker *w;
	unsigned int r;

	clear_error();
	if (!dp.running)
		return set_error(ENODEV, "the dataplane is not running");
	if (index >= dp.n_workers || info == NULL)
		return set_error(ERANGE, "worker %u does not exist", index);
	w = &dp.workers[index];
	memset(info, 0, sizeof(*info));
	info->lcore = w->lcore;
	info->numa = w->numa;
	dp_lock();
	for (r = 0; r < dp.max_relays; r++)
		for (int d = 0; d < DIR_COUNT; d++)
			if (dp.relays[r].cpu[d] == (int)w->lcore)
				info->directions++;
	dp_unlock();
	info->busy_cycles = __atomic_load_n(&w->busy_cycles, __ATOMIC_RELAXED);
	info->idle_cycles = __atomic_load_n(&w->idle_cycles, __ATOMIC_RELAXED);
	info->polls = __atomic_load_n(&w->polls, __ATOMIC_RELAXED);
	info->packets = __atomic_load_n(&w->packets, __ATOMIC_RELAXED);
	info->hz = rte_get_tsc_hz();
	return 0;
}
