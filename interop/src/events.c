/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Events to the control plane. Producers (vhost and ethdev callbacks, the
 * control thread) never block: when the queue is full the oldest event is
 * dropped and a VIO4WD_EV_LOST event tells the reader to look again at the
 * whole state (the control plane is level-triggered anyway).
 */

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "dataplane.h"

#define EVENT_QUEUE_LEN 1024

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct vio4wd_event q[EVENT_QUEUE_LEN];
	unsigned int head;
	unsigned int count;
	uint64_t lost;
	bool shutdown;
} evq = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
event_init(void)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_lock(&evq.lock);
	pthread_cond_init(&evq.cond, &attr);
	evq.head = 0;
	evq.count = 0;
	evq.lost = 0;
	evq.shutdown = false;
	pthread_mutex_unlock(&evq.lock);
	pthread_condattr_destroy(&attr);
}

void
event_shutdown(void)
{
	pthread_mutex_lock(&evq.lock);
	evq.shutdown = true;
	pthread_cond_broadcast(&evq.cond);
	pthread_mutex_unlock(&evq.lock);
}

void
event_post(enum vio4wd_event_type type, unsigned int relay, int64_t value)
{
	struct vio4wd_event *ev;

	pthread_mutex_lock(&evq.lock);
	if (evq.count == EVENT_QUEUE_LEN) {
		evq.head = (evq.head + 1) % EVENT_QUEUE_LEN;
		evq.count--;
		evq.lost++;
	}
	ev = &evq.q[(evq.head + evq.count) % EVENT_QUEUE_LEN];
	ev->type = type;
	ev->relay = relay;
	ev->value = value;
	ev->time_ns = now_ns();
	evq.count++;
	pthread_cond_signal(&evq.cond);
	pthread_mutex_unlock(&evq.lock);
}

int
vio4wd_event_wait(struct vio4wd_event *ev, int timeout_ms)
{
	struct timespec deadline;
	int ret = 0;

	if (ev == NULL)
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}

	pthread_mutex_lock(&evq.lock);
	while (evq.count == 0 && evq.lost == 0 && !evq.shutdown && ret != ETIMEDOUT)
		ret = pthread_cond_timedwait(&evq.cond, &evq.lock, &deadline);
	if (evq.lost > 0) {
		memset(ev, 0, sizeof(*ev));
		ev->type = VIO4WD_EV_LOST;
		ev->value = (int64_t)evq.lost;
		ev->time_ns = now_ns();
		evq.lost = 0;
		ret = 1;
	} else if (evq.count > 0) {
		*ev = evq.q[evq.head];
		evq.head = (evq.head + 1) % EVENT_QUEUE_LEN;
		evq.count--;
		ret = 1;
	} else {
		ret = evq.shutdown ? -ESHUTDOWN : 0;
	}
	pthread_mutex_unlock(&evq.lock);
	return ret;
}
