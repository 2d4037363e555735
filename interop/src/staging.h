/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A direction's staging buffer: the burst taken from the source and not yet
 * accepted by the destination, with its byte total, so that the usual case,
 * a burst sent whole, is counted without another pass over its mbufs.
 */

#ifndef VIO4WD_STAGING_H
#define VIO4WD_STAGING_H

#include <string.h>

#include "dataplane.h"

static inline uint64_t
sum_bytes(struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t bytes = 0;
	uint16_t i;

	for (i = 0; i < n; i++)
		bytes += rte_pktmbuf_pkt_len(pkts[i]);
	return bytes;
}

/* Remove the first n packets, keeping the rest at the front, in order. */
static inline void
stage_consume(struct staging *st, uint16_t n, uint64_t bytes)
{
	st->count -= n;
	st->bytes -= bytes;
	if (st->count > 0) {
		memmove(st->pkts, st->pkts + n, st->count * sizeof(st->pkts[0]));
		memmove(st->hash, st->hash + n, st->count * sizeof(st->hash[0]));
	}
}

/* The destination took the first n packets; a destination that copies
 * them (vhost) leaves them to be freed. */
static inline void
stage_sent(struct staging *st, struct dir_counters *c, uint16_t n, bool release)
{
	uint64_t bytes;

	if (n == 0)
		return;
	bytes = n == st->count ? st->bytes : sum_bytes(st->pkts, n);
	c->tx_packets += n;
	c->tx_bytes += bytes;
	if (release)
		rte_pktmbuf_free_bulk(st->pkts, n);
	stage_consume(st, n, bytes);
}

/* Drop the i-th packet for good, counted as invalid. */
static inline void
stage_drop_invalid(struct staging *st, struct dir_counters *c, uint16_t i)
{
	struct rte_mbuf *m = st->pkts[i];
	uint32_t len = rte_pktmbuf_pkt_len(m);

	c->drop_invalid_packets++;
	c->drop_invalid_bytes += len;
	rte_pktmbuf_free(m);
	st->count--;
	st->bytes -= len;
	memmove(st->pkts + i, st->pkts + i + 1, (st->count - i) * sizeof(st->pkts[0]));
	memmove(st->hash + i, st->hash + i + 1, (st->count - i) * sizeof(st->hash[0]));
}

/* Drop everything staged: the destination is absent. */
static inline void
stage_drop_all(struct staging *st, struct dir_counters *c)
{
	c->drop_unavail_packets += st->count;
	c->drop_unavail_bytes += st->bytes;
	rte_pktmbuf_free_bulk(st->pkts, st->count);
	st->count = 0;
	st->bytes = 0;
	st->held = false;
	st->stalled_since = 0;
}

#endif /* VIO4WD_STAGING_H */
