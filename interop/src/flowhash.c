/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow hash choosing the guest RX queue of a VF->VM packet. It is the
 * original virtio-forwarder's (calc_eth_header_hash), word for word, so a
 * flow lands on the same guest queue after an upgrade.
 */

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_jhash.h>
#include <rte_mbuf.h>

#include "dataplane.h"

#define FLOW_HASH_SEED 0xdeadbee5

static inline bool
has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP;
}

/* Ports in network byte order, combined as raw 16-bit values. */
static inline uint32_t
ports_word(const uint8_t *l4)
{
	uint16_t src, dst;

	memcpy(&src, l4, sizeof(src));
	memcpy(&dst, l4 + 2, sizeof(dst));
	return ((uint32_t)dst << 16) + src;
}

uint32_t
flow_hash(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	uint32_t words[10];
	uint32_t n = 0;
	uint16_t ether_type;

	if (len < RTE_ETHER_HDR_LEN)
		return 0;
	memcpy(&ether_type, p + 12, sizeof(ether_type));

	if (ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) &&
	    len >= RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr)) {
		const struct rte_ipv4_hdr *ip = (const void *)(p + RTE_ETHER_HDR_LEN);
		uint32_t ihl = (ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * 4;

		words[n++] = ip->src_addr;
		words[n++] = ip->dst_addr;
		words[n++] = ip->next_proto_id;
		if (has_ports(ip->next_proto_id) && len >= RTE_ETHER_HDR_LEN + ihl + 4)
			words[n++] = ports_word(p + RTE_ETHER_HDR_LEN + ihl);
	} else if (ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6) &&
		   len >= RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv6_hdr)) {
		const struct rte_ipv6_hdr *ip6 = (const void *)(p + RTE_ETHER_HDR_LEN);

		/* &: an array in 22.11, struct rte_ipv6_addr from 24.11 */
		memcpy(&words[0], &ip6->src_addr, 16);
		memcpy(&words[4], &ip6->dst_addr, 16);
		words[8] = ip6->proto;
		n = 9;
		if (has_ports(ip6->proto) && len >= RTE_ETHER_HDR_LEN + 40 + 4)
			words[n++] = ports_word(p + RTE_ETHER_HDR_LEN + 40);
	} else {
		memcpy(words, p, 12);
		words[3] = ether_type;
		n = 4;
	}
	return rte_jhash_32b(words, n, FLOW_HASH_SEED);
}
