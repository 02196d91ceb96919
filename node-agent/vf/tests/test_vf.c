/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hlvf pool tests that need no root: discovery from a fake sysfs tree (built
 * by mk-sysfs.sh with the real layout), allocation, exhaustion, parallel
 * allocation by threads and processes, stale owners, restart, DPDK mode,
 * records, the "vf" config parser and device-info. Kernel-mode moves are in
 * test/integration/vf-kernel.sh (root, veths).
 */
#include <cjson/cJSON.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hl_check.h"
#include "hlvf.h"

static char basedir[128]; /* made and removed by main(): cleaned up even when a test fails */
static char tmpdir[256];
static char sysroot[300];
static char statedir[300];

/* mk-sysfs.sh ROOT PF BUS SPEC... */
static void mk_sysfs(const char *pf, const char *bus, const char *specs)
{
	const char *top = getenv("HOSTLANE_TOP");
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "sh %s/node-agent/vf/tests/mk-sysfs.sh '%s' %s %s %s",
		 top ? top : ".", sysroot, pf, bus, specs);
	ck_assert_int_eq(system(cmd), 0);
}

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/t.XXXXXX", basedir);
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(sysroot, sizeof(sysroot), "%s/sys", tmpdir);
	snprintf(statedir, sizeof(statedir), "%s/state/vf", tmpdir);
}

static void teardown(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", tmpdir);
}

static struct hl_vf_pool *open_pool(const char *pf1, const char *pf2)
{
	struct hl_vf_pool_opts o = { .sysfs_root = sysroot, .state_dir = statedir };

	o.pfs[0] = pf1;
	o.pfs[1] = pf2;
	return hl_vf_pool_open(&o);
}

/* n vfio-pci VFs on pf0 */
static struct hl_vf_pool *vfio_pool(int n)
{
	char specs[1024] = "";

	for (int i = 0; i < n; i++)
		strcat(specs, " vfio-pci");
	mk_sysfs("pf0", "3b", specs);
	struct hl_vf_pool *p = open_pool("pf0", NULL);

	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(hl_vf_count(p), (unsigned)n);
	return p;
}

START_TEST(t_discover)
{
	struct hl_vf_pool *p;
	struct hl_vf_info in;

	mk_sysfs("ens1f0", "3b", "iavf:ens1f0v0 iavf:ens1f0v1 vfio-pci - iavf:ens1f0v4");
	mk_sysfs("ens1f1", "3c", "vfio-pci iavf:ens1f1v1");
	p = open_pool("ens1f1", "ens1f0");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(hl_vf_count(p), 7);

	ck_assert_int_eq(hl_vf_get(p, 0, &in), 0);
	ck_assert_str_eq(in.pci, "0000:3b:02.0");
	ck_assert_str_eq(in.pf, "ens1f0");
	ck_assert_str_eq(in.pf_pci, "0000:3b:00.0");
	ck_assert_uint_eq(in.vf, 0);
	ck_assert_str_eq(in.driver, "iavf");
	ck_assert_str_eq(in.netdev, "ens1f0v0");
	ck_assert(!in.dpdk);
	ck_assert_int_eq(in.state, HL_VF_FREE);
	ck_assert_str_eq(in.owner, "");

	ck_assert_int_eq(hl_vf_get(p, 2, &in), 0);
	ck_assert_str_eq(in.pci, "0000:3b:02.2");
	ck_assert_str_eq(in.driver, "vfio-pci");
	ck_assert_str_eq(in.netdev, "");
	ck_assert(in.dpdk);

	ck_assert_int_eq(hl_vf_get(p, 3, &in), 0); /* unbound: no driver, no netdev */
	ck_assert_str_eq(in.driver, "");
	ck_assert_str_eq(in.netdev, "");
	ck_assert(!in.dpdk);

	ck_assert_int_eq(hl_vf_get(p, 4, &in), 0);
	ck_assert_uint_eq(in.vf, 4);
	ck_assert_str_eq(in.netdev, "ens1f0v4");

	ck_assert_int_eq(hl_vf_get(p, 6, &in), 0);
	ck_assert_str_eq(in.pf, "ens1f1");
	ck_assert_str_eq(in.pci, "0000:3c:02.1");
	ck_assert_str_eq(in.pf_pci, "0000:3c:00.0");
	ck_assert_int_eq(hl_vf_get(p, 7, &in), -ERANGE);
	hl_vf_pool_close(p);
}
END_TEST

START_TEST(t_open_errors)
{
	struct hl_vf_pool_opts o = { .sysfs_root = sysroot, .state_dir = statedir };

	mk_sysfs("pf0", "3b", "vfio-pci");
	o.pfs[0] = "nope";
	errno = 0;
	ck_assert_ptr_null(hl_vf_pool_open(&o));
	ck_assert_int_eq(errno, ENOENT);
	o.pfs[0] = "../pf0";
	ck_assert_ptr_null(hl_vf_pool_open(&o));
	ck_assert_int_eq(errno, EINVAL);
	o.pfs[0] = NULL;
	ck_assert_ptr_null(hl_vf_pool_open(&o));
	ck_assert_int_eq(errno, EINVAL);
	o.pfs[0] = "pf0";
	o.state_dir = NULL;
	ck_assert_ptr_null(hl_vf_pool_open(&o));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(hl_vf_pool_open(NULL));
}
END_TEST

START_TEST(t_alloc_exhaust_reuse)
{
	struct hl_vf_pool *p = vfio_pool(8);
	struct hl_vf_info in, again;
	char owner[64], seen[8][HL_VF_PCI_LEN];

	for (int i = 0; i < 8; i++) {
		snprintf(owner, sizeof(owner), "/var/run/netns/p%d|c%d|net1", i, i);
		ck_assert_int_eq(hl_vf_alloc(p, owner, HL_VF_WANT_ANY, &in), 0);
		ck_assert_str_eq(in.owner, owner);
		ck_assert_int_eq(in.state, HL_VF_ALLOCATED);
		ck_assert_uint_eq(in.gen, 1);
		strcpy(seen[i], in.pci);
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(seen[i], seen[j]);
	}
	ck_assert_int_eq(hl_vf_alloc(p, "ns|late|net1", HL_VF_WANT_ANY, &in), -EAGAIN);
	ck_assert_str_eq(hl_vf_strerror(-EAGAIN),
			 "no free SR-IOV VF in the pool (try again later)");

	/* an ADD retried by the runtime gets the same VF again */
	ck_assert_int_eq(hl_vf_alloc(p, "/var/run/netns/p3|c3|net1", HL_VF_WANT_ANY, &again), 0);
	ck_assert_str_eq(again.pci, seen[3]);
	ck_assert_uint_eq(again.gen, 1);

	ck_assert_int_eq(hl_vf_release(p, "/var/run/netns/p3|c3|net1"), 0);
	ck_assert_int_eq(hl_vf_release(p, "/var/run/netns/p3|c3|net1"), 0); /* idempotent */
	ck_assert_int_eq(hl_vf_alloc(p, "ns|late|net1", HL_VF_WANT_ANY, &in), 0);
	ck_assert_str_eq(in.pci, seen[3]);
	ck_assert_uint_eq(in.gen, 2);
	ck_assert_int_eq(hl_vf_alloc(p, "", HL_VF_WANT_ANY, &in), -EINVAL);
	ck_assert_int_eq(hl_vf_release(p, NULL), -EINVAL);
	hl_vf_pool_close(p);
}
END_TEST

#define NPAR 20
#define NVF 8

struct par {
	struct hl_vf_pool *p;
	int i;
	int rc;
	struct hl_vf_info in;
};

static void *par_alloc(void *arg)
{
	struct par *a = arg;
	char owner[64];

	snprintf(owner, sizeof(owner), "ns%d|ctr%d|net1", a->i, a->i);
	a->rc = hl_vf_alloc(a->p, owner, HL_VF_WANT_ANY, &a->in);
	return NULL;
}

static void check_par(struct par *a)
{
	int ok = 0, again = 0;

	for (int i = 0; i < NPAR; i++) {
		if (a[i].rc == 0) {
			ok++;
			for (int j = 0; j < i; j++)
				if (a[j].rc == 0)
					ck_assert_str_ne(a[i].in.pci, a[j].in.pci);
		} else {
			ck_assert_int_eq(a[i].rc, -EAGAIN);
			again++;
		}
	}
	ck_assert_int_eq(ok, NVF);
	ck_assert_int_eq(again, NPAR - NVF);
}

static void release_all(struct hl_vf_pool *p)
{
	char owner[64];
	struct hl_vf_info in;

	for (int i = 0; i < NPAR; i++) {
		snprintf(owner, sizeof(owner), "ns%d|ctr%d|net1", i, i);
		ck_assert_int_eq(hl_vf_release(p, owner), 0);
	}
	for (size_t i = 0; i < hl_vf_count(p); i++) {
		ck_assert_int_eq(hl_vf_get(p, i, &in), 0);
		ck_assert_int_eq(in.state, HL_VF_FREE);
		ck_assert_str_eq(in.owner, "");
	}
}

START_TEST(t_parallel_threads)
{
	struct hl_vf_pool *p = vfio_pool(NVF);
	struct par a[NPAR];
	pthread_t t[NPAR];

	for (int i = 0; i < NPAR; i++) {
		a[i] = (struct par){ .p = p, .i = i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, par_alloc, &a[i]), 0);
	}
	for (int i = 0; i < NPAR; i++)
		pthread_join(t[i], NULL);
	check_par(a);
	release_all(p);
	hl_vf_pool_close(p);
}
END_TEST

/* Separate processes, each with its own pool handle (agent + plugin + CLI). */
START_TEST(t_parallel_processes)
{
	struct hl_vf_pool *p = vfio_pool(NVF);
	struct par *a = mmap(NULL, sizeof(struct par) * NPAR, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid[NPAR];

	ck_assert_ptr_ne(a, MAP_FAILED);
	for (int i = 0; i < NPAR; i++) {
		pid[i] = fork();
		ck_assert_int_ge(pid[i], 0);
		if (pid[i] == 0) {
			struct hl_vf_pool *mine = open_pool("pf0", NULL);

			a[i] = (struct par){ .p = mine, .i = i, .rc = -1000 };
			if (mine)
				par_alloc(&a[i]);
			hl_vf_pool_close(mine);
			_exit(0);
		}
	}
	for (int i = 0; i < NPAR; i++) {
		int st;

		ck_assert_int_eq(waitpid(pid[i], &st, 0), pid[i]);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	check_par(a);
	release_all(p);
	munmap(a, sizeof(struct par) * NPAR);
	hl_vf_pool_close(p);
}
END_TEST

/* An old pod's DEL arriving after its VF went to a new pod. */
START_TEST(t_stale_owner)
{
	struct hl_vf_pool *p = vfio_pool(1);
	struct hl_vf_info in;
	struct hl_vf_result res;

	ck_assert_int_eq(hl_vf_alloc(p, "nsA|old|net1", HL_VF_WANT_ANY, &in), 0);
	ck_assert_int_eq(hl_vf_release(p, "nsA|old|net1"), 0);
	ck_assert_int_eq(hl_vf_alloc(p, "nsB|new|net1", HL_VF_WANT_ANY, &in), 0);
	ck_assert_uint_eq(in.gen, 2);
	ck_assert_int_eq(hl_vf_attach_dpdk(p, "nsB|new|net1", NULL, &res), 0);

	/* late DEL and a late attach of the old owner: no effect on the new one */
	ck_assert_int_eq(hl_vf_release(p, "nsA|old|net1"), 0);
	ck_assert_int_eq(hl_vf_attach_dpdk(p, "nsA|old|net1", NULL, &res), -ENOENT);
	ck_assert_int_eq(hl_vf_get(p, 0, &in), 0);
	ck_assert_str_eq(in.owner, "nsB|new|net1");
	ck_assert_int_eq(in.state, HL_VF_ATTACHED);
	ck_assert_uint_eq(in.gen, 2);
	/* and the pool does not hand it out again */
	ck_assert_int_eq(hl_vf_alloc(p, "nsC|third|net1", HL_VF_WANT_ANY, &in), -EAGAIN);
	hl_vf_pool_close(p);
}
END_TEST

START_TEST(t_restart_keeps_owners)
{
	struct hl_vf_pool *p = vfio_pool(3);
	struct hl_vf_info in;
	struct hl_vf_result res;

	ck_assert_int_eq(hl_vf_alloc(p, "a|1|net1", HL_VF_WANT_DPDK, &in), 0);
	ck_assert_int_eq(hl_vf_attach_dpdk(p, "a|1|net1", NULL, &res), 0);
	ck_assert_int_eq(hl_vf_alloc(p, "b|2|net1", HL_VF_WANT_DPDK, &in), 0);
	hl_vf_pool_close(p);

	p = open_pool("pf0", NULL); /* the agent restarted */
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(hl_vf_get(p, 0, &in), 0);
	ck_assert_str_eq(in.owner, "a|1|net1");
	ck_assert_int_eq(in.state, HL_VF_ATTACHED);
	ck_assert_int_eq(hl_vf_get(p, 1, &in), 0);
	ck_assert_str_eq(in.owner, "b|2|net1");
	ck_assert_int_eq(in.state, HL_VF_ALLOCATED);
	ck_assert_int_eq(hl_vf_alloc(p, "c|3|net1", HL_VF_WANT_ANY, &in), 0);
	ck_assert_str_eq(in.pci, "0000:3b:02.2");
	ck_assert_int_eq(hl_vf_release(p, "a|1|net1"), 0);
	ck_assert_int_eq(hl_vf_get(p, 0, &in), 0);
	ck_assert_int_eq(in.state, HL_VF_FREE);
	ck_assert_uint_eq(in.gen, 1);
	hl_vf_pool_close(p);
}
END_TEST

/* "lo" stands in for a kernel VF netdev: allocation records it (read only). */
START_TEST(t_modes)
{
	struct hl_vf_pool *p;
	struct hl_vf_info in;
	struct hl_vf_result res;

	mk_sysfs("pf0", "3b", "vfio-pci iavf:lo");
	p = open_pool("pf0", NULL);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(hl_vf_alloc(p, "k|1|net1", HL_VF_WANT_KERNEL, &in), 0);
	ck_assert_str_eq(in.pci, "0000:3b:02.1");
	ck_assert_str_eq(in.netdev, "lo");
	ck_assert(!in.dpdk);
	ck_assert_int_eq(hl_vf_alloc(p, "k|2|net1", HL_VF_WANT_KERNEL, &in), -EAGAIN);
	ck_assert_int_eq(hl_vf_alloc(p, "d|1|net1", HL_VF_WANT_DPDK, &in), 0);
	ck_assert_str_eq(in.pci, "0000:3b:02.0");
	ck_assert(in.dpdk);

	ck_assert_int_eq(hl_vf_attach_kernel(p, "d|1|net1", "/proc/self/ns/net", "net1", NULL,
					     &res), -EMEDIUMTYPE);
	ck_assert_int_eq(hl_vf_attach_dpdk(p, "k|1|net1", NULL, &res), -EMEDIUMTYPE);
	ck_assert_int_eq(hl_vf_attach_kernel(p, "k|1|net1", "/proc/self/ns/net", "bad/name",
					     NULL, &res), -EINVAL);
	ck_assert_int_eq(hl_vf_attach_kernel(p, "nobody", "/proc/self/ns/net", "net1", NULL,
					     &res), -ENOENT);
	ck_assert_int_eq(hl_vf_attach_dpdk(p, "d|1|net1", NULL, &res), 0);
	ck_assert(res.dpdk);
	ck_assert_str_eq(res.pci, "0000:3b:02.0");
	ck_assert_str_eq(res.pf_pci, "0000:3b:00.0");
	ck_assert_str_eq(res.driver, "vfio-pci");
	ck_assert_int_eq(hl_vf_release(p, "d|1|net1"), 0);
	ck_assert_int_eq(hl_vf_release(p, "k|1|net1"), 0); /* nothing moved: nothing to undo */
	hl_vf_pool_close(p);
}
END_TEST

START_TEST(t_alloc_pci)
{
	struct hl_vf_pool *p = vfio_pool(4);
	struct hl_vf_info in;

	ck_assert_int_eq(hl_vf_alloc_pci(p, "x|1|net1", "0000:3b:02.2", &in), 0);
	ck_assert_str_eq(in.pci, "0000:3b:02.2");
	ck_assert_uint_eq(in.vf, 2);
	ck_assert_int_eq(hl_vf_alloc_pci(p, "x|1|net1", "0000:3b:02.2", &in), 0);
	ck_assert_int_eq(hl_vf_alloc_pci(p, "y|2|net1", "0000:3b:02.2", &in), -EBUSY);
	ck_assert_int_eq(hl_vf_alloc_pci(p, "x|1|net1", "0000:3b:02.1", &in), -EBUSY);
	ck_assert_int_eq(hl_vf_alloc_pci(p, "y|2|net1", "0000:99:02.0", &in), -ENODEV);
	hl_vf_pool_close(p);
}
END_TEST

static void write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(s, f);
	fclose(f);
}

START_TEST(t_corrupt_record)
{
	struct hl_vf_pool *p = vfio_pool(2);
	struct hl_vf_info in;
	char path[512];

	snprintf(path, sizeof(path), "%s/0000:3b:02.0.json", statedir);
	write_file(path, "{\"version\":1,\"state\":\"attached\",\"owner\":\"\"");
	ck_assert_int_eq(hl_vf_get(p, 0, &in), -EBADMSG);
	/* a VF whose record cannot be read is never handed out */
	ck_assert_int_eq(hl_vf_alloc(p, "o|1|net1", HL_VF_WANT_ANY, &in), 0);
	ck_assert_str_eq(in.pci, "0000:3b:02.1");
	ck_assert_int_eq(hl_vf_alloc(p, "o|2|net1", HL_VF_WANT_ANY, &in), -EAGAIN);
	write_file(path, "{\"version\":1,\"pci\":\"0000:3b:02.0\",\"state\":\"free\","
			 "\"owner\":\"\",\"gen\":\"41\"}");
	ck_assert_int_eq(hl_vf_alloc(p, "o|2|net1", HL_VF_WANT_ANY, &in), 0);
	ck_assert_uint_eq(in.gen, 42);
	hl_vf_pool_close(p);
}
END_TEST

struct conf_case {
	const char *json;
	int rc;
	void (*check)(const struct hl_vf_conf *c);
};

static void chk_full(const struct hl_vf_conf *c)
{
	static const uint8_t mac[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01 };

	ck_assert(c->pf.has_vlan && c->pf.vlan == 100);
	ck_assert(c->pf.has_qos && c->pf.qos == 3);
	ck_assert(c->pf.has_proto && c->pf.proto == ETH_P_8021AD);
	ck_assert(c->pf.has_mac && !memcmp(c->pf.mac, mac, 6));
	ck_assert(c->has_mac && !memcmp(c->mac, mac, 6));
	ck_assert(c->pf.has_spoofchk && !c->pf.spoofchk);
	ck_assert(c->pf.has_trust && c->pf.trust);
	ck_assert(c->pf.has_link_state && c->pf.link_state == IFLA_VF_LINK_STATE_DISABLE);
	ck_assert(c->pf.has_min_tx_rate && c->pf.min_tx_rate == 100);
	ck_assert(c->pf.has_max_tx_rate && c->pf.max_tx_rate == 1000);
	ck_assert_uint_eq(c->mtu, 9000);
}

static void chk_none(const struct hl_vf_conf *c)
{
	ck_assert(!c->pf.has_vlan && !c->pf.has_qos && !c->pf.has_proto && !c->pf.has_mac &&
		  !c->pf.has_spoofchk && !c->pf.has_trust && !c->pf.has_link_state &&
		  !c->pf.has_min_tx_rate && !c->pf.has_max_tx_rate && !c->has_mac && !c->mtu);
}

static void chk_vlan_only(const struct hl_vf_conf *c)
{
	ck_assert(c->pf.has_vlan && c->pf.vlan == 0 && !c->pf.has_qos && !c->pf.has_proto);
	ck_assert(c->pf.has_max_tx_rate && !c->pf.has_min_tx_rate);
	ck_assert(c->pf.has_link_state && c->pf.link_state == IFLA_VF_LINK_STATE_AUTO);
}

static const struct conf_case conf_cases[] = {
	{ "{\"vlan\":100,\"vlanQoS\":3,\"vlanProto\":\"802.1AD\",\"mac\":\"02:aa:bb:cc:dd:01\","
	  "\"spoofchk\":\"off\",\"trust\":\"on\",\"link_state\":\"disable\","
	  "\"min_tx_rate\":100,\"max_tx_rate\":1000,\"mtu\":9000,\"other\":[1]}", 0, chk_full },
	{ "{}", 0, chk_none },
	{ "{\"vlan\":0,\"max_tx_rate\":5,\"link_state\":\"auto\"}", 0, chk_vlan_only },
	{ "{\"vlan\":4096}", -EINVAL, NULL },
	{ "{\"vlan\":-1}", -EINVAL, NULL },
	{ "{\"vlan\":1.5}", -EINVAL, NULL },
	{ "{\"vlan\":\"10\"}", -EINVAL, NULL },
	{ "{\"vlanQoS\":2}", -EINVAL, NULL },
	{ "{\"vlan\":0,\"vlanQoS\":2}", -EINVAL, NULL },
	{ "{\"vlan\":10,\"vlanQoS\":8}", -EINVAL, NULL },
	{ "{\"vlanProto\":\"802.1ad\"}", -EINVAL, NULL },
	{ "{\"vlan\":10,\"vlanProto\":\"802.1x\"}", -EINVAL, NULL },
	{ "{\"mac\":\"01:00:5e:00:00:01\"}", -EINVAL, NULL },
	{ "{\"mac\":\"02:00:00:00:00\"}", -EINVAL, NULL },
	{ "{\"mac\":\"02:00:00:00:00:01:\"}", -EINVAL, NULL },
	{ "{\"spoofchk\":true}", -EINVAL, NULL },
	{ "{\"trust\":\"yes\"}", -EINVAL, NULL },
	{ "{\"link_state\":\"up\"}", -EINVAL, NULL },
	{ "{\"min_tx_rate\":200,\"max_tx_rate\":100}", -EINVAL, NULL },
	{ "{\"max_tx_rate\":4294967296}", -EINVAL, NULL },
	{ "{\"mtu\":67}", -EINVAL, NULL },
	{ "[]", -EINVAL, NULL },
	{ "{\"vlan\":1", -EINVAL, NULL },
	{ "", -EINVAL, NULL },
};

START_TEST(t_conf_parse)
{
	const struct conf_case *c = &conf_cases[_i];
	struct hl_vf_conf conf;
	char err[128];
	int rc = hl_vf_conf_parse(c->json, strlen(c->json), &conf, err, sizeof(err));

	if (rc != c->rc)
		ck_abort_msg("case %d (%s): rc %d, want %d (%s)", _i, c->json, rc, c->rc, err);
	if (rc)
		ck_assert_msg(err[0] != '\0', "case %d: no reason given", _i);
	else
		c->check(&conf);
}
END_TEST

START_TEST(t_devinfo)
{
	char buf[512], path[512];
	cJSON *o;
	const cJSON *pci;
	int n = hl_vf_devinfo_json("0000:3b:02.5", "0000:3b:00.0", buf, sizeof(buf));

	ck_assert_int_gt(n, 0);
	ck_assert_int_eq((int)strlen(buf), n);
	o = cJSON_Parse(buf);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "type")->valuestring, "pci");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "version")->valuestring, "1.1.0");
	pci = cJSON_GetObjectItem(o, "pci");
	ck_assert(cJSON_IsObject(pci));
	ck_assert_str_eq(cJSON_GetObjectItem(pci, "pci-address")->valuestring, "0000:3b:02.5");
	ck_assert_str_eq(cJSON_GetObjectItem(pci, "pf-pci-address")->valuestring, "0000:3b:00.0");
	ck_assert_int_eq(cJSON_GetArraySize(pci), 2);
	cJSON_Delete(o);

	n = hl_vf_devinfo_json("0000:3b:02.5", NULL, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	o = cJSON_Parse(buf);
	ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "pci"), "pf-pci-address"));
	cJSON_Delete(o);

	ck_assert_int_eq(hl_vf_devinfo_json("0000:3b:02.5\"", NULL, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(hl_vf_devinfo_json("3b:02.5", NULL, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(hl_vf_devinfo_json("0000:3b:02.5", "x", buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(hl_vf_devinfo_json("0000:3b:02.5", NULL, buf, 20), -ENOSPC);

	snprintf(path, sizeof(path), "%s/devinfo/cni/net1-pod-net1-device-info.json", tmpdir);
	ck_assert_int_eq(hl_vf_devinfo_write(path, "0000:3b:02.5", "0000:3b:00.0"), 0);
	{
		FILE *f = fopen(path, "r");
		char back[512] = "";

		ck_assert_ptr_nonnull(f);
		ck_assert_uint_gt(fread(back, 1, sizeof(back) - 1, f), 0);
		fclose(f);
		hl_vf_devinfo_json("0000:3b:02.5", "0000:3b:00.0", buf, sizeof(buf));
		ck_assert_str_eq(back, buf);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hlvf");
	TCase *tc = tcase_create("pool");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, t_discover);
	tcase_add_test(tc, t_open_errors);
	tcase_add_test(tc, t_alloc_exhaust_reuse);
	tcase_add_test(tc, t_parallel_threads);
	tcase_add_test(tc, t_parallel_processes);
	tcase_add_test(tc, t_stale_owner);
	tcase_add_test(tc, t_restart_keeps_owners);
	tcase_add_test(tc, t_modes);
	tcase_add_test(tc, t_alloc_pci);
	tcase_add_test(tc, t_corrupt_record);
	tcase_add_test(tc, t_devinfo);
	tcase_add_loop_test(tc, t_conf_parse, 0, (int)(sizeof(conf_cases) / sizeof(conf_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	char cmd[256];
	int rc;

	/* The fake sysfs trees of every test live under one scratch dir. */
	snprintf(basedir, sizeof(basedir), "/tmp/hlvf-test.XXXXXX");
	if (!mkdtemp(basedir))
		return EXIT_FAILURE;
	rc = hl_check_run(suite());
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", basedir);
	if (system(cmd) != 0)
		rc = EXIT_FAILURE;
	return rc;
}
