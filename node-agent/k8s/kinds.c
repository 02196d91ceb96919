/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kinds an informer follows: where the API server serves them and how
 * their objects are parsed. A new kind is a row here, its typed object in
 * hlk8s.h and its parser.
 */
#include <stddef.h>

#include "hlk8s_private.h"

static const struct hlk8s__kind kinds[HLK8S_KIND_COUNT] = {
	[HLK8S_PODS] = {
		.id = HLK8S_PODS, .name = "pods", .path = "/api/v1/pods",
		.kind = "Pod", .list_kind = "PodList", .namespaced = true,
		.size = sizeof(struct hlk8s_pod),
		.parse = hlk8s__pod_parse, .clear = hlk8s__pod_clear,
	},
	[HLK8S_SERVICES] = {
		.id = HLK8S_SERVICES, .name = "services", .path = "/api/v1/services",
		.kind = "Service", .list_kind = "ServiceList", .namespaced = true,
		.size = sizeof(struct hlk8s_service),
		.parse = hlk8s__service_parse, .clear = hlk8s__service_clear,
	},
	[HLK8S_ENDPOINTSLICES] = {
		.id = HLK8S_ENDPOINTSLICES, .name = "endpointslices",
		.path = "/apis/discovery.k8s.io/v1/endpointslices",
		.kind = "EndpointSlice", .list_kind = "EndpointSliceList", .namespaced = true,
		.size = sizeof(struct hlk8s_endpointslice),
		.parse = hlk8s__slice_parse, .clear = hlk8s__slice_clear,
	},
	[HLK8S_NETWORKPOLICIES] = {
		.id = HLK8S_NETWORKPOLICIES, .name = "networkpolicies",
		.path = "/apis/networking.k8s.io/v1/networkpolicies",
		.kind = "NetworkPolicy", .list_kind = "NetworkPolicyList", .namespaced = true,
		.size = sizeof(struct hlk8s_raw),
		.parse = hlk8s__raw_parse, .clear = hlk8s__raw_clear,
	},
	[HLK8S_NAMESPACES] = {
		.id = HLK8S_NAMESPACES, .name = "namespaces", .path = "/api/v1/namespaces",
		.kind = "Namespace", .list_kind = "NamespaceList", .namespaced = false,
		.size = sizeof(struct hlk8s_raw),
		.parse = hlk8s__raw_parse, .clear = hlk8s__raw_clear,
	},
};

const struct hlk8s__kind *hlk8s__kind_of(enum hlk8s_kind k)
{
	return (unsigned)k < HLK8S_KIND_COUNT ? &kinds[k] : NULL;
}

const char *hlk8s_kind_name(enum hlk8s_kind k)
{
	const struct hlk8s__kind *d = hlk8s__kind_of(k);

	return d ? d->name : "unknown";
}
