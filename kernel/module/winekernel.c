// SPDX-License-Identifier: GPL-2.0-only
/*
 * winekernel: generic named-object primitives for Wine (/dev/winekernel).
 *
 * The contract is docs/primitives.md; the ABI kernel/include/uapi/linux/
 * winekernel.h and docs/ioctl-abi.md.
 *
 * Object model:
 *  - an instance is a named, isolated world of objects; sessions (open file
 *    descriptions of the device) attach to exactly one;
 *  - an object has a name in a per-instance hash table (flat lookup at any
 *    size) and a per-namespace rbtree (sorted listing), data, a
 *    shared/exclusive lock, an ACL and optionally a native file;
 *  - a handle is a per-session u32 in an xarray, holding an object reference.
 *
 * Locking, outermost first:
 *  wk_instances_lock (mutex)  the instance list and instance refcount drops
 *  inst->lock (mutex)         names, namespaces, object counts, creator lists,
 *                             the server, the session registry, the ACL
 *  sess->handles xa_lock      handle table slots
 *  obj->lock (spinlock)       lock state, waiters, native file, ACL pointer
 *  sess->event_lock           server events
 *  obj->data_lock (rwsem) is independent of all the others (never nested).
 * Object lifetime is a kref whose final put takes inst->lock
 * (kref_put_mutex), so a lookup under inst->lock never sees a dying object.
 */

#include <linux/cred.h>
#include <linux/ctype.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/jhash.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/poll.h>
#include <linux/rbtree.h>
#include <linux/rhashtable.h>
#include <linux/rwsem.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "../include/uapi/linux/winekernel.h"

#define WK_GFP			(GFP_KERNEL_ACCOUNT | __GFP_NOWARN)
/* Copies up to this size go through the stack instead of a heap bounce. */
#define WK_STACK_BOUNCE		256
/* A listing larger than this is refused (-E2BIG); page with start instead. */
#define WK_LIST_MAX_BYTES	(256U << 20)
/* First name a bare-namespace create assigns. */
#define WK_AUTONAME_FIRST	0x20

enum wk_wait_state {
	WK_WAIT_PENDING,
	WK_WAIT_GRANTED,
	WK_WAIT_CANCELLED,
};

struct wk_acl {
	struct rcu_head rcu;
	u32 count;
	struct winekernel_ace entries[];
};

/* The ACL every new object starts with: ALLOW OWNER all object rights. */
static struct wk_acl wk_default_acl = {
	.count = 1,
};
static struct winekernel_ace wk_default_ace = {
	.type = WK_ACE_ALLOW, .who = WK_WHO_OWNER, .rights = WK_RIGHTS_OBJECT_MASK,
};

struct wk_namespace {
	struct rb_node node;		/* inst->lock: in inst->namespaces */
	struct rb_root names;		/* inst->lock: objects, by name */
	u64 count;			/* inst->lock: objects linked here */
	u32 len;			/* immutable */
	char name[WK_NAMESPACE_MAX + 1];	/* immutable */
};

struct wk_instance {
	struct list_head node;		/* wk_instances_lock */
	struct kref ref;		/* sessions + permanent objects */
	struct mutex lock;
	struct rhashtable names;	/* inst->lock for writes */
	struct rb_root namespaces;	/* inst->lock */
	struct xarray sessions;		/* inst->lock: id -> wk_session */
	u32 next_session_id;		/* inst->lock */
	u32 nsessions;			/* inst->lock */
	u64 nobjects;			/* inst->lock */
	atomic64_t nbytes;		/* data bytes, charged without inst->lock */
	atomic64_t nhandles;
	u32 autoname_counter;		/* inst->lock */
	struct wk_session *server;	/* inst->lock */
	struct wk_acl *acl;		/* inst->lock */
	kuid_t owner;			/* immutable */
	struct winekernel_limits limits;	/* immutable */
	u32 kernid_len;			/* immutable */
	char kernid[WK_KERNID_MAX + 1];	/* immutable */
};

struct wk_session {
	struct wk_instance *inst;	/* set once under wk_instances_lock */
	u32 id;				/* set with inst */
	const struct cred *cred;	/* immutable: the opener's */
	pid_t pid;			/* immutable: opener's tgid */
	struct xarray handles;		/* own xa_lock; id -> wk_handle */
	struct list_head created;	/* inst->lock: objects we created */
	spinlock_t event_lock;
	struct list_head events;	/* event_lock */
	wait_queue_head_t poll_wq;
};

struct wk_object {
	struct kref ref;		/* handles + 1 while permanent */
	struct wk_instance *inst;	/* immutable */
	struct rhash_head hash_node;	/* inst->lock */
	struct rb_node ns_node;		/* inst->lock */
	struct wk_namespace *ns;	/* inst->lock: valid while linked */
	bool linked;			/* inst->lock: name visible */
	bool permanent;			/* inst->lock */
	struct wk_session *creator;	/* inst->lock: NULL once handed off */
	struct list_head creator_node;	/* inst->lock */
	kuid_t owner;			/* immutable */

	spinlock_t lock;
	u32 shared_holders;		/* lock */
	struct wk_handle *exclusive_holder; /* lock */
	bool abandoned;			/* lock: report -EOWNERDEAD once */
	struct list_head waiters;	/* lock: FIFO of wk_waiter */
	struct file *file;		/* lock */
	struct wk_acl __rcu *acl;	/* lock for writes, RCU for reads */

	struct rw_semaphore data_lock;
	u8 *data;			/* data_lock */
	u64 size;			/* data_lock (READ_ONCE for estimates) */
	u64 capacity;			/* data_lock */

	u32 ns_len;			/* immutable */
	u32 name_len;			/* immutable */
	char name[];			/* immutable, NUL-terminated */
};

struct wk_handle {
	struct kref ref;		/* the handle table's + in-flight calls */
	struct wk_object *obj;		/* immutable, holds an object ref */
	struct rcu_head rcu;
	u32 lock_mode;			/* obj->lock: 0 or WK_LOCK_SHARED/EXCLUSIVE */
	bool waiting;			/* obj->lock */
	bool closed;			/* obj->lock */
};

struct wk_waiter {
	struct list_head node;		/* obj->lock */
	struct task_struct *task;
	struct wk_handle *handle;
	u32 mode;
	int state;			/* obj->lock; read by the sleeper with acquire */
	int result;			/* obj->lock */
};

struct wk_event_node {
	struct list_head node;		/* sess->event_lock */
	struct winekernel_event event;
};

struct wk_name_key {
	const char *name;
	u32 len;
};

static DEFINE_MUTEX(wk_instances_lock);
static LIST_HEAD(wk_instances);	/* wk_instances_lock */

static atomic64_t wk_nr_objects = ATOMIC64_INIT(0);
static atomic64_t wk_nr_bytes = ATOMIC64_INIT(0);
static atomic64_t wk_nr_sessions = ATOMIC64_INIT(0);
static atomic64_t wk_nr_instances = ATOMIC64_INIT(0);
static atomic64_t wk_nr_handles = ATOMIC64_INIT(0);

static const struct file_operations wk_fops;

/* Names */

static u32 wk_key_hash(const void *data, u32 len, u32 seed)
{
	const struct wk_name_key *key = data;

	return jhash(key->name, key->len, seed);
}

static u32 wk_obj_hash(const void *data, u32 len, u32 seed)
{
	const struct wk_object *obj = data;

	return jhash(obj->name, obj->name_len, seed);
}

static int wk_obj_cmp(struct rhashtable_compare_arg *arg, const void *data)
{
	const struct wk_name_key *key = arg->key;
	const struct wk_object *obj = data;

	return key->len != obj->name_len || memcmp(key->name, obj->name, key->len);
}

static const struct rhashtable_params wk_name_params = {
	.key_len = sizeof(struct wk_name_key),
	.head_offset = offsetof(struct wk_object, hash_node),
	.hashfn = wk_key_hash,
	.obj_hashfn = wk_obj_hash,
	.obj_cmpfn = wk_obj_cmp,
	.automatic_shrinking = true,
};

static bool wk_namespace_char_ok(char c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '-';
}

/*
 * Validates a user name already copied to @name. Returns the namespace
 * length; *bare is set if the name has no ':' (only create accepts that).
 */
static int wk_parse_name(const char *name, u32 len, bool *bare)
{
	const char *colon;
	u32 i, ns_len;

	if (!len)
		return -EINVAL;
	if (memchr(name, '\0', len))
		return -EINVAL;
	colon = memchr(name, ':', len);
	ns_len = colon ? colon - name : len;
	if (!ns_len || ns_len > WK_NAMESPACE_MAX)
		return -EINVAL;
	for (i = 0; i < ns_len; i++)
		if (!wk_namespace_char_ok(name[i]))
			return -EINVAL;
	if (colon && ns_len + 1 == len)
		return -EINVAL;	/* empty name after ':' */
	*bare = !colon;
	return ns_len;
}

/* Copies and validates a name from user space into a new kernel buffer. */
static char *wk_copy_name(u64 uptr, u32 len, int *ns_len, bool *bare)
{
	char *name;
	int ret;

	if (!len)
		return ERR_PTR(-EINVAL);
	if (len > WK_NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);
	name = kmalloc(len + 1, WK_GFP);
	if (!name)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(name, u64_to_user_ptr(uptr), len)) {
		kfree(name);
		return ERR_PTR(-EFAULT);
	}
	name[len] = '\0';
	ret = wk_parse_name(name, len, bare);
	if (ret < 0) {
		kfree(name);
		return ERR_PTR(ret);
	}
	*ns_len = ret;
	return name;
}

/* Byte-wise order, a prefix before its extensions. */
static int wk_name_order(const char *a, u32 alen, const char *b, u32 blen)
{
	int c = memcmp(a, b, min(alen, blen));

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static struct wk_namespace *wk_ns_find(struct wk_instance *inst,
				       const char *name, u32 len)
{
	struct rb_node *n = inst->namespaces.rb_node;

	while (n) {
		struct wk_namespace *ns = rb_entry(n, struct wk_namespace, node);
		int c = wk_name_order(name, len, ns->name, ns->len);

		if (!c)
			return ns;
		n = c < 0 ? n->rb_left : n->rb_right;
	}
	return NULL;
}

static void wk_ns_insert(struct wk_instance *inst, struct wk_namespace *new)
{
	struct rb_node **link = &inst->namespaces.rb_node, *parent = NULL;

	while (*link) {
		struct wk_namespace *ns = rb_entry(*link, struct wk_namespace, node);

		parent = *link;
		if (wk_name_order(new->name, new->len, ns->name, ns->len) < 0)
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	rb_link_node(&new->node, parent, link);
	rb_insert_color(&new->node, &inst->namespaces);
}

static void wk_ns_insert_object(struct wk_namespace *ns, struct wk_object *new)
{
	struct rb_node **link = &ns->names.rb_node, *parent = NULL;
	const char *key = new->name + new->ns_len + 1;
	u32 klen = new->name_len - new->ns_len - 1;

	while (*link) {
		struct wk_object *obj = rb_entry(*link, struct wk_object, ns_node);

		parent = *link;
		if (wk_name_order(key, klen, obj->name + obj->ns_len + 1,
				  obj->name_len - obj->ns_len - 1) < 0)
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	rb_link_node(&new->ns_node, parent, link);
	rb_insert_color(&new->ns_node, &ns->names);
}

/* ACLs */

static bool wk_cred_in_group(const struct cred *cred, kgid_t gid)
{
	const struct group_info *gi = cred->group_info;
	int lo = 0, hi;

	if (gid_eq(cred->egid, gid))
		return true;
	if (!gi)
		return false;
	/* group_info is kept sorted (groups_sort) */
	hi = gi->ngroups;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (gid_gt(gid, gi->gid[mid]))
			lo = mid + 1;
		else if (gid_lt(gid, gi->gid[mid]))
			hi = mid;
		else
			return true;
	}
	return false;
}

static bool wk_ace_matches(const struct winekernel_ace *e, kuid_t owner,
			   const struct cred *cred)
{
	switch (e->who) {
	case WK_WHO_OWNER:
		return uid_eq(cred->euid, owner);
	case WK_WHO_USER:
		return uid_eq(cred->euid, make_kuid(cred->user_ns, e->id));
	case WK_WHO_GROUP:
		return wk_cred_in_group(cred, make_kgid(cred->user_ns, e->id));
	case WK_WHO_EVERYONE:
		return true;
	}
	return false;
}

/* First matching entry naming a right decides it; undecided is denied. */
static int wk_acl_check(const struct wk_acl *acl, kuid_t owner,
			const struct cred *cred, u32 wanted)
{
	const struct winekernel_ace *entries;
	u32 decided = 0, allowed = 0, i;

	entries = acl == &wk_default_acl ? &wk_default_ace : acl->entries;
	if (uid_eq(cred->euid, owner))
		allowed = wanted & (WK_RIGHT_READ_ACL | WK_RIGHT_WRITE_ACL);
	decided = allowed;
	for (i = 0; i < acl->count && decided != wanted; i++) {
		const struct winekernel_ace *e = &entries[i];
		u32 bits = e->rights & wanted & ~decided;

		if (!bits || !wk_ace_matches(e, owner, cred))
			continue;
		decided |= bits;
		if (e->type == WK_ACE_ALLOW)
			allowed |= bits;
	}
	return (allowed & wanted) == wanted ? 0 : -EACCES;
}

static int wk_object_access(struct wk_object *obj, const struct cred *cred,
			    u32 wanted)
{
	int ret;

	rcu_read_lock();
	ret = wk_acl_check(rcu_dereference(obj->acl), obj->owner, cred, wanted);
	rcu_read_unlock();
	return ret;
}

/* Copies and validates an ACL from user space. */
static struct wk_acl *wk_acl_from_user(u64 uptr, u32 count, u32 rights_mask)
{
	struct wk_acl *acl;
	u32 i;

	if (count > WK_ACL_MAX_ENTRIES)
		return ERR_PTR(-E2BIG);
	acl = kmalloc(struct_size(acl, entries, count), WK_GFP);
	if (!acl)
		return ERR_PTR(-ENOMEM);
	acl->count = count;
	if (count && copy_from_user(acl->entries, u64_to_user_ptr(uptr),
				    flex_array_size(acl, entries, count))) {
		kfree(acl);
		return ERR_PTR(-EFAULT);
	}
	for (i = 0; i < count; i++) {
		const struct winekernel_ace *e = &acl->entries[i];

		if ((e->type != WK_ACE_ALLOW && e->type != WK_ACE_DENY) ||
		    e->who < WK_WHO_OWNER || e->who > WK_WHO_EVERYONE ||
		    (e->rights & ~rights_mask)) {
			kfree(acl);
			return ERR_PTR(-EINVAL);
		}
	}
	return acl;
}

static void wk_acl_free(struct wk_acl *acl)
{
	if (acl && acl != &wk_default_acl)
		kfree(acl);
}

/* Instances */

static void wk_instance_release(struct kref *ref)
	__releases(&wk_instances_lock)
{
	struct wk_instance *inst = container_of(ref, struct wk_instance, ref);

	list_del(&inst->node);
	mutex_unlock(&wk_instances_lock);

	/* No session and no permanent object: the name table is empty. */
	rhashtable_destroy(&inst->names);
	xa_destroy(&inst->sessions);
	wk_acl_free(inst->acl);
	mutex_destroy(&inst->lock);
	kfree(inst);
	atomic64_dec(&wk_nr_instances);
}

static void wk_instance_put(struct wk_instance *inst)
{
	kref_put_mutex(&inst->ref, wk_instance_release, &wk_instances_lock);
}

static struct wk_instance *wk_instance_find(const char *kernid, u32 len)
{
	struct wk_instance *inst;

	lockdep_assert_held(&wk_instances_lock);
	list_for_each_entry(inst, &wk_instances, node)
		if (inst->kernid_len == len && !memcmp(inst->kernid, kernid, len))
			return inst;
	return NULL;
}

static struct wk_instance *wk_instance_create(const char *kernid, u32 len,
					      const struct winekernel_limits *limits,
					      const struct cred *cred)
{
	struct wk_instance *inst;
	struct wk_acl *acl;

	inst = kzalloc(sizeof(*inst), WK_GFP);
	if (!inst)
		return ERR_PTR(-ENOMEM);
	acl = kmalloc(struct_size(acl, entries, 1), WK_GFP);
	if (!acl)
		goto err_free_inst;
	acl->count = 1;
	acl->entries[0] = (struct winekernel_ace) {
		.type = WK_ACE_ALLOW, .who = WK_WHO_OWNER, .rights = WK_RIGHT_ATTACH,
	};
	if (rhashtable_init(&inst->names, &wk_name_params))
		goto err_free_acl;

	kref_init(&inst->ref);
	mutex_init(&inst->lock);
	inst->namespaces = RB_ROOT;
	xa_init_flags(&inst->sessions, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	atomic64_set(&inst->nbytes, 0);
	atomic64_set(&inst->nhandles, 0);
	inst->autoname_counter = WK_AUTONAME_FIRST;
	inst->acl = acl;
	inst->owner = cred->euid;
	inst->limits = *limits;
	memcpy(inst->kernid, kernid, len);
	inst->kernid_len = len;
	list_add(&inst->node, &wk_instances);
	atomic64_inc(&wk_nr_instances);
	return inst;

err_free_acl:
	kfree(acl);
err_free_inst:
	kfree(inst);
	return ERR_PTR(-ENOMEM);
}

/* Objects */

/* Removes the name; the object itself lives on. */
static void wk_object_unlink_locked(struct wk_object *obj)
{
	struct wk_instance *inst = obj->inst;
	struct wk_namespace *ns = obj->ns;

	lockdep_assert_held(&inst->lock);
	if (!obj->linked)
		return;
	rhashtable_remove_fast(&inst->names, &obj->hash_node, wk_name_params);
	rb_erase(&obj->ns_node, &ns->names);
	obj->linked = false;
	obj->ns = NULL;
	if (!--ns->count) {
		rb_erase(&ns->node, &inst->namespaces);
		kfree(ns);
	}
}

static void wk_object_free(struct wk_object *obj)
{
	if (obj->file)
		fput(obj->file);
	wk_acl_free(rcu_dereference_protected(obj->acl, true));
	kvfree(obj->data);
	kfree(obj);
}

static void wk_object_destroy_locked(struct wk_object *obj)
{
	struct wk_instance *inst = obj->inst;

	lockdep_assert_held(&inst->lock);
	wk_object_unlink_locked(obj);
	if (obj->creator)
		list_del(&obj->creator_node);
	inst->nobjects--;
	atomic64_sub(obj->size, &inst->nbytes);
	atomic64_sub(obj->size, &wk_nr_bytes);
	atomic64_dec(&wk_nr_objects);
	wk_object_free(obj);
}

static void wk_object_release(struct kref *ref)
	__releases(&obj->inst->lock)
{
	struct wk_object *obj = container_of(ref, struct wk_object, ref);
	struct wk_instance *inst = obj->inst;

	wk_object_destroy_locked(obj);
	mutex_unlock(&inst->lock);
}

static void wk_object_put(struct wk_object *obj)
{
	kref_put_mutex(&obj->ref, wk_object_release, &obj->inst->lock);
}

/* For callers holding inst->lock that know another reference remains. */
static void wk_object_put_locked(struct wk_object *obj)
{
	lockdep_assert_held(&obj->inst->lock);
	if (refcount_dec_and_test(&obj->ref.refcount))
		wk_object_destroy_locked(obj);
}

static struct wk_object *wk_object_lookup_locked(struct wk_instance *inst,
						 const char *name, u32 len)
{
	struct wk_name_key key = { .name = name, .len = len };

	lockdep_assert_held(&inst->lock);
	return rhashtable_lookup_fast(&inst->names, &key, wk_name_params);
}

/* Gives @obj its name in the table. */
static int wk_object_link_locked(struct wk_instance *inst, struct wk_object *obj)
{
	struct wk_namespace *ns;
	bool new_ns = false;
	int ret;

	ns = wk_ns_find(inst, obj->name, obj->ns_len);
	if (!ns) {
		ns = kzalloc(sizeof(*ns), WK_GFP);
		if (!ns)
			return -ENOMEM;
		ns->names = RB_ROOT;
		ns->len = obj->ns_len;
		memcpy(ns->name, obj->name, obj->ns_len);
		new_ns = true;
	}
	ret = rhashtable_insert_fast(&inst->names, &obj->hash_node,
				     wk_name_params);
	if (ret) {
		if (new_ns)
			kfree(ns);
		return ret == -E2BIG ? -ENOSPC : -ENOMEM;
	}
	if (new_ns)
		wk_ns_insert(inst, ns);
	wk_ns_insert_object(ns, obj);
	ns->count++;
	obj->ns = ns;
	obj->linked = true;
	return 0;
}

static struct wk_object *wk_object_alloc(struct wk_instance *inst,
					 const char *ns_name, u32 ns_len,
					 const char *name, u32 name_len,
					 const struct cred *cred)
{
	struct wk_object *obj;

	obj = kzalloc(struct_size(obj, name, name_len + 1), WK_GFP);
	if (!obj)
		return NULL;
	kref_init(&obj->ref);
	obj->inst = inst;
	INIT_LIST_HEAD(&obj->creator_node);
	obj->owner = cred->euid;
	spin_lock_init(&obj->lock);
	INIT_LIST_HEAD(&obj->waiters);
	RCU_INIT_POINTER(obj->acl, &wk_default_acl);
	init_rwsem(&obj->data_lock);
	obj->ns_len = ns_len;
	obj->name_len = name_len;
	if (name) {
		memcpy(obj->name, name, name_len);
	} else {
		memcpy(obj->name, ns_name, ns_len);
		obj->name[ns_len] = ':';
	}
	return obj;
}

/* Fills in an assigned name ("ns:%08x"), skipping names in use. */
static int wk_object_autoname_locked(struct wk_instance *inst,
				     struct wk_object *obj)
{
	u64 tries;

	for (tries = 0; tries <= inst->limits.max_objects; tries++) {
		u32 n = inst->autoname_counter;

		inst->autoname_counter = n == U32_MAX ? 1 : n + 1;
		if (!n)
			continue;
		snprintf(obj->name + obj->ns_len + 1, 9, "%08x", n);
		if (!wk_object_lookup_locked(inst, obj->name, obj->name_len))
			return 0;
	}
	return -ENOSPC;
}

/* Handles */

static void wk_handle_release(struct kref *ref)
{
	struct wk_handle *h = container_of(ref, struct wk_handle, ref);
	struct wk_object *obj = h->obj;

	atomic64_dec(&obj->inst->nhandles);
	atomic64_dec(&wk_nr_handles);
	wk_object_put(obj);
	kfree_rcu(h, rcu);
}

static void wk_handle_put(struct wk_handle *h)
{
	kref_put(&h->ref, wk_handle_release);
}

/* Takes over the caller's object reference (@obj may be set later). */
static struct wk_handle *wk_handle_alloc(struct wk_instance *inst,
					 struct wk_object *obj)
{
	struct wk_handle *h = kzalloc(sizeof(*h), WK_GFP);

	if (!h)
		return NULL;
	kref_init(&h->ref);
	h->obj = obj;
	atomic64_inc(&inst->nhandles);
	atomic64_inc(&wk_nr_handles);
	return h;
}

static struct wk_handle *wk_handle_get(struct wk_session *sess, u32 id)
{
	struct wk_handle *h;

	rcu_read_lock();
	h = xa_load(&sess->handles, id);
	if (h && !kref_get_unless_zero(&h->ref))
		h = NULL;
	rcu_read_unlock();
	return h;
}

/* Reserves the lowest free handle value (-EMFILE at the session quota). */
static int wk_handle_reserve(struct wk_session *sess, u32 *id)
{
	int ret = xa_alloc(&sess->handles, id, NULL,
			   XA_LIMIT(1, sess->inst->limits.max_handles_per_session),
			   WK_GFP);

	return ret == -EBUSY ? -EMFILE : ret;
}

/* Lock state (obj->lock held) */

static int wk_lock_take_abandoned(struct wk_object *obj)
{
	if (!obj->abandoned)
		return 0;
	obj->abandoned = false;
	return -EOWNERDEAD;
}

static bool wk_lock_available(struct wk_object *obj, u32 mode)
{
	if (obj->exclusive_holder)
		return false;
	return mode == WK_LOCK_SHARED || !obj->shared_holders;
}

static void wk_lock_acquire(struct wk_object *obj, struct wk_handle *h, u32 mode)
{
	if (mode == WK_LOCK_EXCLUSIVE)
		obj->exclusive_holder = h;
	else
		obj->shared_holders++;
	h->lock_mode = mode;
}

/* Serves waiters in FIFO order while the head is compatible. */
static void wk_lock_grant_waiters(struct wk_object *obj)
{
	struct wk_waiter *w, *tmp;

	lockdep_assert_held(&obj->lock);
	list_for_each_entry_safe(w, tmp, &obj->waiters, node) {
		struct task_struct *task = w->task;

		if (!wk_lock_available(obj, w->mode))
			break;
		wk_lock_acquire(obj, w->handle, w->mode);
		w->handle->waiting = false;
		w->result = wk_lock_take_abandoned(obj);
		list_del_init(&w->node);
		/* The sleeper re-takes obj->lock before its frame goes away. */
		smp_store_release(&w->state, WK_WAIT_GRANTED);
		wake_up_process(task);
	}
}

/* Releases what @h holds; marks the object abandoned if asked. */
static void wk_lock_release(struct wk_object *obj, struct wk_handle *h,
			    bool abandon)
{
	lockdep_assert_held(&obj->lock);
	if (h->lock_mode == WK_LOCK_EXCLUSIVE) {
		obj->exclusive_holder = NULL;
		if (abandon)
			obj->abandoned = true;
	} else if (h->lock_mode == WK_LOCK_SHARED) {
		obj->shared_holders--;
	}
	h->lock_mode = 0;
}

/*
 * Marks a handle closed: what it holds is released as abandoned and any
 * wait through it is cancelled. The caller still owns the table's ref.
 */
static void wk_handle_abandon(struct wk_handle *h)
{
	struct wk_object *obj = h->obj;
	struct wk_waiter *w, *tmp;

	spin_lock(&obj->lock);
	h->closed = true;
	wk_lock_release(obj, h, true);
	list_for_each_entry_safe(w, tmp, &obj->waiters, node) {
		if (w->handle != h)
			continue;
		list_del_init(&w->node);
		w->result = -EBADF;
		h->waiting = false;
		smp_store_release(&w->state, WK_WAIT_CANCELLED);
		wake_up_process(w->task);
	}
	wk_lock_grant_waiters(obj);
	spin_unlock(&obj->lock);
}

/* Closes a handle already removed from its table; drops the table's ref. */
static void wk_handle_close(struct wk_handle *h)
{
	wk_handle_abandon(h);
	wk_handle_put(h);
}

/* Sessions */

static int wk_open(struct inode *inode, struct file *file)
{
	struct wk_session *sess;

	sess = kzalloc(sizeof(*sess), WK_GFP);
	if (!sess)
		return -ENOMEM;
	sess->cred = get_cred(file->f_cred);
	sess->pid = task_tgid_vnr(current);
	xa_init_flags(&sess->handles, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	INIT_LIST_HEAD(&sess->created);
	spin_lock_init(&sess->event_lock);
	INIT_LIST_HEAD(&sess->events);
	init_waitqueue_head(&sess->poll_wq);
	file->private_data = sess;
	atomic64_inc(&wk_nr_sessions);
	return nonseekable_open(inode, file);
}

/*
 * Hands every object @sess created that is still alive to the instance's
 * server (if any, and not @sess): a new server handle plus an event each.
 */
static void wk_session_handoff(struct wk_session *sess)
{
	struct wk_instance *inst = sess->inst;
	struct wk_object *obj, *tmp;
	struct wk_session *srv;

	mutex_lock(&inst->lock);
	if (inst->server == sess)
		inst->server = NULL;
	srv = inst->server;
	list_for_each_entry_safe(obj, tmp, &sess->created, creator_node) {
		struct wk_event_node *ev = NULL;
		struct wk_handle *h = NULL;
		u32 id;

		list_del_init(&obj->creator_node);
		obj->creator = NULL;
		if (!srv)
			continue;
		ev = kzalloc(sizeof(*ev), WK_GFP);
		if (!ev)
			continue;
		kref_get(&obj->ref);
		h = wk_handle_alloc(inst, obj);
		if (!h)
			goto err_put;
		/* The server's handle quota does not apply: it must get them. */
		if (xa_alloc(&srv->handles, &id, h, XA_LIMIT(1, INT_MAX), WK_GFP))
			goto err_free_handle;
		obj->creator = srv;
		list_add_tail(&obj->creator_node, &srv->created);
		ev->event.handle = id;
		ev->event.from_session = sess->id;
		ev->event.from_pid = sess->pid;
		spin_lock(&srv->event_lock);
		list_add_tail(&ev->node, &srv->events);
		spin_unlock(&srv->event_lock);
		wake_up_interruptible(&srv->poll_wq);
		continue;

err_free_handle:
		atomic64_dec(&inst->nhandles);
		atomic64_dec(&wk_nr_handles);
		kfree(h);
err_put:
		/* Our own handle or permanence keeps it alive. */
		wk_object_put_locked(obj);
		kfree(ev);
	}
	mutex_unlock(&inst->lock);
}

static int wk_release(struct inode *inode, struct file *file)
{
	struct wk_session *sess = file->private_data;
	struct wk_instance *inst = sess->inst;
	struct wk_event_node *ev, *tmp;
	struct wk_handle *h;
	unsigned long id;

	/*
	 * Locks are abandoned first, so a server woken by the hand-off events
	 * already finds them released (-EOWNERDEAD); then the hand-off, which
	 * needs our handles still holding the objects; then the handles go.
	 */
	xa_for_each(&sess->handles, id, h)
		wk_handle_abandon(h);
	if (inst)
		wk_session_handoff(sess);
	xa_for_each(&sess->handles, id, h) {
		xa_erase(&sess->handles, id);
		wk_handle_put(h);
	}
	xa_destroy(&sess->handles);

	if (inst) {
		mutex_lock(&inst->lock);
		xa_erase(&inst->sessions, sess->id);
		inst->nsessions--;
		mutex_unlock(&inst->lock);
		wk_instance_put(inst);
	}

	list_for_each_entry_safe(ev, tmp, &sess->events, node)
		kfree(ev);
	put_cred(sess->cred);
	kfree(sess);
	atomic64_dec(&wk_nr_sessions);
	return 0;
}

static __poll_t wk_poll(struct file *file, struct poll_table_struct *wait)
{
	struct wk_session *sess = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &sess->poll_wq, wait);
	spin_lock(&sess->event_lock);
	if (!list_empty(&sess->events))
		mask = EPOLLIN | EPOLLRDNORM;
	spin_unlock(&sess->event_lock);
	return mask;
}

/* ioctls: unbound */

static int wk_ioctl_stats(struct wk_session *sess, void __user *argp)
{
	struct wk_instance *inst = smp_load_acquire(&sess->inst);
	struct winekernel_stats st = {
		.objects = atomic64_read(&wk_nr_objects),
		.bytes = atomic64_read(&wk_nr_bytes),
		.sessions = atomic64_read(&wk_nr_sessions),
		.instances = atomic64_read(&wk_nr_instances),
		.handles = atomic64_read(&wk_nr_handles),
	};

	if (inst) {
		mutex_lock(&inst->lock);
		st.instance_objects = inst->nobjects;
		st.instance_sessions = inst->nsessions;
		mutex_unlock(&inst->lock);
		st.instance_bytes = atomic64_read(&inst->nbytes);
		st.instance_handles = atomic64_read(&inst->nhandles);
	}
	if (copy_to_user(argp, &st, sizeof(st)))
		return -EFAULT;
	return 0;
}

static int wk_limits_resolve(struct winekernel_limits *l)
{
	static const struct {
		size_t offset;
		u64 dflt, max;
	} table[] = {
		{ offsetof(struct winekernel_limits, max_objects),
		  WK_DEFAULT_MAX_OBJECTS, WK_LIMIT_MAX_OBJECTS },
		{ offsetof(struct winekernel_limits, max_bytes),
		  WK_DEFAULT_MAX_BYTES, WK_LIMIT_MAX_BYTES },
		{ offsetof(struct winekernel_limits, max_object_size),
		  WK_DEFAULT_MAX_OBJECT_SIZE, WK_LIMIT_MAX_OBJECT_SIZE },
		{ offsetof(struct winekernel_limits, max_handles_per_session),
		  WK_DEFAULT_MAX_HANDLES_PER_SESSION,
		  WK_LIMIT_MAX_HANDLES_PER_SESSION },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(table); i++) {
		u64 *v = (u64 *)((u8 *)l + table[i].offset);

		if (!*v)
			*v = table[i].dflt;
		else if (*v > table[i].max)
			return -EINVAL;
	}
	return 0;
}

static int wk_ioctl_attach(struct wk_session *sess, void __user *argp)
{
	struct winekernel_attach_args args;
	struct winekernel_limits limits;
	char kernid[WK_KERNID_MAX + 1];
	struct wk_instance *inst;
	bool created = false;
	u32 id;
	int ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~WK_ATTACH_FLAGS_MASK)
		return -EINVAL;
	if (!args.kernid_len || args.kernid_len > WK_KERNID_MAX)
		return -EINVAL;
	if (copy_from_user(kernid, u64_to_user_ptr(args.kernid), args.kernid_len))
		return -EFAULT;
	if (memchr(kernid, '\0', args.kernid_len) ||
	    memchr(kernid, '/', args.kernid_len))
		return -EINVAL;
	limits = args.limits;
	if (args.flags & WK_ATTACH_CREATE) {
		ret = wk_limits_resolve(&limits);
		if (ret)
			return ret;
	}

	mutex_lock(&wk_instances_lock);
	if (sess->inst) {
		ret = -EALREADY;
		goto out_unlock_global;
	}
	inst = wk_instance_find(kernid, args.kernid_len);
	if (inst) {
		mutex_lock(&inst->lock);
		ret = wk_acl_check(inst->acl, inst->owner, sess->cred,
				   WK_RIGHT_ATTACH);
		if (ret)
			goto out_unlock_inst;
		kref_get(&inst->ref);
	} else {
		if (!(args.flags & WK_ATTACH_CREATE)) {
			ret = -ENOENT;
			goto out_unlock_global;
		}
		inst = wk_instance_create(kernid, args.kernid_len, &limits,
					  sess->cred);
		if (IS_ERR(inst)) {
			ret = PTR_ERR(inst);
			goto out_unlock_global;
		}
		created = true;
		mutex_lock(&inst->lock);
	}
	ret = xa_alloc_cyclic(&inst->sessions, &id, sess, XA_LIMIT(1, U32_MAX),
			      &inst->next_session_id, WK_GFP);
	if (ret < 0) {
		mutex_unlock(&inst->lock);
		if (!created) {
			refcount_dec(&inst->ref.refcount);	/* others hold it */
			goto out_unlock_global;
		}
		wk_instance_release(&inst->ref);	/* unlocks the global lock */
		return ret;
	}
	inst->nsessions++;
	sess->id = id;
	mutex_unlock(&inst->lock);
	smp_store_release(&sess->inst, inst);
	mutex_unlock(&wk_instances_lock);

	args.limits = inst->limits;
	args.session_id = id;
	args.created = created;
	/* The attach happened; a bad output pointer does not undo it. */
	if (copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return 0;

out_unlock_inst:
	mutex_unlock(&inst->lock);
out_unlock_global:
	mutex_unlock(&wk_instances_lock);
	return ret;
}

/* ioctls: bound */

static int wk_ioctl_instance_setacl(struct wk_session *sess, void __user *argp)
{
	struct winekernel_instance_setacl_args args;
	struct wk_instance *inst = sess->inst;
	struct wk_acl *acl, *old;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.__pad)
		return -EINVAL;
	if (!uid_eq(sess->cred->euid, inst->owner))
		return -EPERM;
	acl = wk_acl_from_user(args.entries, args.count, WK_RIGHTS_MASK);
	if (IS_ERR(acl))
		return PTR_ERR(acl);
	mutex_lock(&inst->lock);
	old = inst->acl;
	inst->acl = acl;
	mutex_unlock(&inst->lock);
	wk_acl_free(old);
	return 0;
}

static int wk_charge_bytes(struct wk_instance *inst, s64 delta)
{
	if (delta > 0 &&
	    atomic64_add_return(delta, &inst->nbytes) > inst->limits.max_bytes) {
		atomic64_sub(delta, &inst->nbytes);
		return -ENOSPC;
	}
	if (delta < 0)
		atomic64_add(delta, &inst->nbytes);
	atomic64_add(delta, &wk_nr_bytes);
	return 0;
}

static int wk_ioctl_create(struct wk_session *sess, void __user *argp)
{
	struct winekernel_create_args args;
	struct wk_instance *inst = sess->inst;
	struct wk_object *obj, *existing;
	struct wk_handle *h;
	bool bare, created = true;
	char *name;
	u8 *data = NULL;
	int ns_len, ret;
	u32 id;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~WK_CREATE_FLAGS_MASK)
		return -EINVAL;
	name = wk_copy_name(args.name, args.name_len, &ns_len, &bare);
	if (IS_ERR(name))
		return PTR_ERR(name);
	if (args.size > inst->limits.max_object_size) {
		ret = -EFBIG;
		goto err_free_name;
	}
	if (args.size) {
		data = kvmalloc(args.size, WK_GFP);
		if (!data) {
			ret = -ENOMEM;
			goto err_free_name;
		}
		if (copy_from_user(data, u64_to_user_ptr(args.data), args.size)) {
			ret = -EFAULT;
			goto err_free_data;
		}
	}
	obj = wk_object_alloc(inst, name, ns_len, bare ? NULL : name,
			      bare ? ns_len + 9 : args.name_len, sess->cred);
	if (!obj) {
		ret = -ENOMEM;
		goto err_free_data;
	}
	obj->data = data;
	obj->size = args.size;
	obj->capacity = args.size;
	data = NULL;

	ret = wk_handle_reserve(sess, &id);
	if (ret)
		goto err_free_obj;
	h = wk_handle_alloc(inst, NULL);
	if (!h) {
		ret = -ENOMEM;
		goto err_unreserve;
	}

	mutex_lock(&inst->lock);
	if (bare) {
		ret = wk_object_autoname_locked(inst, obj);
		if (ret)
			goto err_unlock;
		existing = NULL;
	} else {
		existing = wk_object_lookup_locked(inst, obj->name, obj->name_len);
	}
	if (existing) {
		if (!(args.flags & WK_CREATE_OPEN_EXISTING)) {
			ret = -EEXIST;
			goto err_unlock;
		}
		kref_get(&existing->ref);
		mutex_unlock(&inst->lock);
		wk_object_free(obj);
		obj = existing;
		created = false;
		goto publish;
	}
	if (inst->nobjects >= inst->limits.max_objects) {
		ret = -ENOSPC;
		goto err_unlock;
	}
	ret = wk_charge_bytes(inst, obj->size);
	if (ret)
		goto err_unlock;
	ret = wk_object_link_locked(inst, obj);
	if (ret) {
		wk_charge_bytes(inst, -(s64)obj->size);
		goto err_unlock;
	}
	inst->nobjects++;
	atomic64_inc(&wk_nr_objects);
	obj->creator = sess;
	list_add_tail(&obj->creator_node, &sess->created);
	if (args.flags & WK_CREATE_PERMANENT) {
		obj->permanent = true;
		kref_get(&obj->ref);
		kref_get(&inst->ref);
	}
	mutex_unlock(&inst->lock);

publish:
	h->obj = obj;
	/* Cannot fail: the slot exists. The handle is live from here on. */
	xa_store(&sess->handles, id, h, WK_GFP);
	kfree(name);
	args.handle = id;
	args.created = created;
	if (copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return 0;

err_unlock:
	mutex_unlock(&inst->lock);
	atomic64_dec(&inst->nhandles);
	atomic64_dec(&wk_nr_handles);
	kfree(h);
err_unreserve:
	xa_erase(&sess->handles, id);
err_free_obj:
	wk_object_free(obj);
err_free_data:
	kvfree(data);
err_free_name:
	kfree(name);
	return ret;
}

static int wk_ioctl_open(struct wk_session *sess, void __user *argp)
{
	struct winekernel_open_args args;
	struct wk_instance *inst = sess->inst;
	struct wk_object *obj;
	struct wk_handle *h;
	int ns_len, ret;
	bool bare;
	char *name;
	u32 id;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~WK_OPEN_FLAGS_MASK || args.__pad)
		return -EINVAL;
	name = wk_copy_name(args.name, args.name_len, &ns_len, &bare);
	if (IS_ERR(name))
		return PTR_ERR(name);
	if (bare) {
		ret = -EINVAL;
		goto out_free_name;
	}
	ret = wk_handle_reserve(sess, &id);
	if (ret)
		goto out_free_name;
	h = wk_handle_alloc(inst, NULL);
	if (!h) {
		ret = -ENOMEM;
		goto err_unreserve;
	}

	mutex_lock(&inst->lock);
	obj = wk_object_lookup_locked(inst, name, args.name_len);
	if (obj)
		kref_get(&obj->ref);
	mutex_unlock(&inst->lock);
	if (!obj) {
		ret = -ENOENT;
		goto err_free_handle;
	}
	h->obj = obj;
	xa_store(&sess->handles, id, h, WK_GFP);
	kfree(name);
	args.handle = id;
	if (copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return 0;

err_free_handle:
	atomic64_dec(&inst->nhandles);
	atomic64_dec(&wk_nr_handles);
	kfree(h);
err_unreserve:
	xa_erase(&sess->handles, id);
out_free_name:
	kfree(name);
	return ret;
}

static int wk_ioctl_close(struct wk_session *sess, void __user *argp)
{
	struct winekernel_close_args args;
	struct wk_handle *h;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.__pad)
		return -EINVAL;
	xa_lock(&sess->handles);
	h = xa_load(&sess->handles, args.handle);
	if (h)
		__xa_erase(&sess->handles, args.handle);
	xa_unlock(&sess->handles);
	if (!h)
		return -EBADF;
	wk_handle_close(h);
	return 0;
}

static int wk_ioctl_unlink(struct wk_session *sess, struct wk_handle *h,
			   void __user *argp)
{
	struct winekernel_unlink_args args;
	struct wk_object *obj = h->obj;
	struct wk_instance *inst = sess->inst;
	bool was_permanent;
	int ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.__pad)
		return -EINVAL;
	ret = wk_object_access(obj, sess->cred, WK_RIGHT_DELETE);
	if (ret)
		return ret;
	mutex_lock(&inst->lock);
	wk_object_unlink_locked(obj);
	was_permanent = obj->permanent;
	obj->permanent = false;
	if (was_permanent)
		wk_object_put_locked(obj);	/* our handle keeps it */
	mutex_unlock(&inst->lock);
	/* The calling session holds the instance too: never the last ref. */
	if (was_permanent)
		refcount_dec(&inst->ref.refcount);
	return 0;
}

static int wk_ioctl_getname(struct wk_handle *h, void __user *argp)
{
	struct winekernel_getname_args args;
	struct wk_object *obj = h->obj;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.__pad)
		return -EINVAL;
	args.name_len = obj->name_len;
	if (args.buf_size < obj->name_len + 1) {
		if (copy_to_user(argp, &args, sizeof(args)))
			return -EFAULT;
		return -ERANGE;
	}
	/* The name is immutable: no lock needed. */
	if (copy_to_user(u64_to_user_ptr(args.buf), obj->name, obj->name_len + 1))
		return -EFAULT;
	if (copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return 0;
}

static int wk_ioctl_size(struct wk_session *sess, struct wk_handle *h,
			 void __user *argp)
{
	struct winekernel_size_args args;
	struct wk_object *obj = h->obj;
	int ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.__pad)
		return -EINVAL;
	ret = wk_object_access(obj, sess->cred, WK_RIGHT_READ);
	if (ret)
		return ret;
	down_read(&obj->data_lock);
	args.size = obj->size;
	up_read(&obj->data_lock);
	if (copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return 0;
}

static int wk_ioctl_getdata(struct wk_session *sess, struct wk_handle *h,
			    void __user *argp)
{
	struct winekernel_getdata_args args;
	struct wk_object *obj = h->obj;
	u8 stack_buf[WK_STACK_BOUNCE];
	u8 *bounce = stack_buf;
	size_t bounce_size = sizeof(stack_buf);
	u64 n = 0, size;
	int ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~WK_GETDATA_FLAGS_MASK)
		return -EINVAL;
	ret = wk_object_access(obj, sess->cred, WK_RIGHT_READ);
	if (ret)
		return ret;

	for (;;) {
		down_read(&obj->data_lock);
		size = obj->size;
		n = args.offset >= size ? 0 : min(args.len, size - args.offset);
		if (n <= bounce_size) {
			if (n)
				memcpy(bounce, obj->data + args.offset, n);
			up_read(&obj->data_lock);
			break;
		}
		up_read(&obj->data_lock);
		/* Grow the bounce buffer outside the lock, then look again. */
		if (bounce != stack_buf)
			kvfree(bounce);
		bounce = kvmalloc(n, WK_GFP);
		if (!bounce)
			return -ENOMEM;
		bounce_size = n;
	}

	ret = 0;
	if (n && copy_to_user(u64_to_user_ptr(args.buf), bounce, n))
		ret = -EFAULT;
	if (bounce != stack_buf)
		kvfree(bounce);
	if (ret)
		return ret;
	args.copied = n;
	args.size = size;
	if (copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return 0;
}

/* Makes room for @needed bytes; data_lock held for writing. */
static int wk_data_reserve(struct wk_object *obj, u64 needed)
{
	u64 cap, max = obj->inst->limits.max_object_size;
	u8 *data;

	if (needed <= obj->capacity)
		return 0;
	/* Grow geometrically so appends stay linear. */
	cap = max_t(u64, needed, min_t(u64, obj->capacity * 2, max));
	cap = max_t(u64, cap, 64);
	data = kvmalloc(cap, WK_GFP);
	if (!data)
		return -ENOMEM;
	if (obj->size)
		memcpy(data, obj->data, obj->size);
	kvfree(obj->data);
	obj->data = data;
	obj->capacity = cap;
	return 0;
}

static int wk_ioctl_setdata(struct wk_session *sess, struct wk_handle *h,
			    void __user *argp)
{
	struct winekernel_setdata_args args;
	struct wk_object *obj = h->obj;
	u64 max = obj->inst->limits.max_object_size;
	u8 stack_buf[WK_STACK_BOUNCE];
	u8 *bounce = stack_buf;
	u64 end, new_size;
	int ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~WK_SETDATA_FLAGS_MASK)
		return -EINVAL;
	if (args.len > max || args.offset > max || args.offset + args.len > max)
		return -EFBIG;
	ret = wk_object_access(obj, sess->cred, WK_RIGHT_WRITE);
	if (ret)
		return ret;
	end = args.offset + args.len;

	/* Copy in before taking the lock: readers never wait on a fault. */
	if (args.len > sizeof(stack_buf)) {
		bounce = kvmalloc(args.len, WK_GFP);
		if (!bounce)
			return -ENOMEM;
	}
	if (args.len && copy_from_user(bounce, u64_to_user_ptr(args.buf),
				       args.len)) {
		ret = -EFAULT;
		goto out_free;
	}

	down_write(&obj->data_lock);
	new_size = args.flags & WK_SETDATA_TRUNCATE ? end : max(obj->size, end);
	ret = wk_charge_bytes(obj->inst, (s64)new_size - (s64)obj->size);
	if (ret)
		goto out_unlock;
	ret = wk_data_reserve(obj, new_size);
	if (ret) {
		wk_charge_bytes(obj->inst, (s64)obj->size - (s64)new_size);
		goto out_unlock;
	}
	if (args.offset > obj->size)
		memset(obj->data + obj->size, 0, args.offset - obj->size);
	if (args.len)
		memcpy(obj->data + args.offset, bounce, args.len);
	obj->size = new_size;
	if (!new_size) {
		kvfree(obj->data);
		obj->data = NULL;
		obj->capacity = 0;
	}
out_unlock:
	up_write(&obj->data_lock);
out_free:
	if (bounce != stack_buf)
		kvfree(bounce);
	if (ret)
		return ret;
	args.size = new_size;
	if (copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return 0;
}

static int wk_lock_wait(struct wk_object *obj, struct wk_waiter *w,
			u64 timeout_ns)
{
	ktime_t expires, *exp = NULL;
	int ret = 0;

	if (timeout_ns != WK_TIMEOUT_INFINITE && timeout_ns < KTIME_MAX) {
		expires = ktime_add_safe(ktime_get(), ns_to_ktime(timeout_ns));
		exp = &expires;
	}
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (smp_load_acquire(&w->state) != WK_WAIT_PENDING)
			break;
		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		if (!schedule_hrtimeout(exp, HRTIMER_MODE_ABS)) {
			ret = -ETIMEDOUT;
			break;
		}
	}
	__set_current_state(TASK_RUNNING);

	spin_lock(&obj->lock);
	if (w->state != WK_WAIT_PENDING) {
		ret = w->result;	/* granted (0/-EOWNERDEAD) or -EBADF */
	} else {
		list_del(&w->node);
		w->handle->waiting = false;
		/* We may have been what held the queue back. */
		wk_lock_grant_waiters(obj);
	}
	spin_unlock(&obj->lock);
	return ret;
}

static int wk_ioctl_lock(struct wk_session *sess, struct wk_handle *h,
			 void __user *argp)
{
	struct winekernel_lock_args args;
	struct wk_object *obj = h->obj;
	struct wk_waiter w;
	u32 mode;
	int ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~WK_LOCK_FLAGS_MASK)
		return -EINVAL;
	mode = args.flags & (WK_LOCK_SHARED | WK_LOCK_EXCLUSIVE);
	if (mode != WK_LOCK_SHARED && mode != WK_LOCK_EXCLUSIVE)
		return -EINVAL;
	ret = wk_object_access(obj, sess->cred, WK_RIGHT_LOCK);
	if (ret)
		return ret;

	spin_lock(&obj->lock);
	if (h->closed) {
		ret = -EBADF;
	} else if (h->lock_mode || h->waiting) {
		ret = -EDEADLK;
	} else if (list_empty(&obj->waiters) && wk_lock_available(obj, mode)) {
		wk_lock_acquire(obj, h, mode);
		ret = wk_lock_take_abandoned(obj);
	} else if (args.flags & WK_LOCK_NONBLOCK || !args.timeout_ns) {
		ret = -EAGAIN;
	} else {
		w.task = current;
		w.handle = h;
		w.mode = mode;
		w.state = WK_WAIT_PENDING;
		w.result = 0;
		list_add_tail(&w.node, &obj->waiters);
		h->waiting = true;
		spin_unlock(&obj->lock);
		return wk_lock_wait(obj, &w, args.timeout_ns);
	}
	spin_unlock(&obj->lock);
	return ret;
}

static int wk_ioctl_unlock(struct wk_handle *h, void __user *argp)
{
	struct winekernel_unlock_args args;
	struct wk_object *obj = h->obj;
	int ret = 0;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.__pad)
		return -EINVAL;
	spin_lock(&obj->lock);
	if (!h->lock_mode) {
		ret = -EPERM;
	} else {
		wk_lock_release(obj, h, false);
		wk_lock_grant_waiters(obj);
	}
	spin_unlock(&obj->lock);
	return ret;
}

static int wk_ioctl_setacl(struct wk_session *sess, struct wk_handle *h,
			   void __user *argp)
{
	struct winekernel_acl_args args;
	struct wk_object *obj = h->obj;
	struct wk_acl *acl, *old;
	int ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	ret = wk_object_access(obj, sess->cred, WK_RIGHT_WRITE_ACL);
	if (ret)
		return ret;
	acl = wk_acl_from_user(args.entries, args.count, WK_RIGHTS_OBJECT_MASK);
	if (IS_ERR(acl))
		return PTR_ERR(acl);
	spin_lock(&obj->lock);
	old = rcu_replace_pointer(obj->acl, acl, lockdep_is_held(&obj->lock));
	spin_unlock(&obj->lock);
	if (old != &wk_default_acl)
		kfree_rcu(old, rcu);
	return 0;
}

static int wk_ioctl_getacl(struct wk_session *sess, struct wk_handle *h,
			   void __user *argp)
{
	struct winekernel_ace entries[WK_ACL_MAX_ENTRIES];
	struct winekernel_acl_args args;
	struct wk_object *obj = h->obj;
	const struct wk_acl *acl;
	u32 capacity;
	int ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	ret = wk_object_access(obj, sess->cred, WK_RIGHT_READ_ACL);
	if (ret)
		return ret;
	capacity = args.count;
	rcu_read_lock();
	acl = rcu_dereference(obj->acl);
	args.count = acl->count;
	memcpy(entries, acl == &wk_default_acl ? &wk_default_ace : acl->entries,
	       acl->count * sizeof(entries[0]));
	rcu_read_unlock();
	if (capacity < args.count) {
		if (copy_to_user(argp, &args, sizeof(args)))
			return -EFAULT;
		return -ERANGE;
	}
	if (args.count && copy_to_user(u64_to_user_ptr(args.entries), entries,
				       args.count * sizeof(entries[0])))
		return -EFAULT;
	if (copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return 0;
}

static int wk_ioctl_attach_file(struct wk_session *sess, struct wk_handle *h,
				void __user *argp)
{
	struct winekernel_attach_file_args args;
	struct wk_object *obj = h->obj;
	struct file *file, *old;
	int ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	ret = wk_object_access(obj, sess->cred, WK_RIGHT_ATTACH_FILE);
	if (ret)
		return ret;
	if (args.fd > INT_MAX)
		return -EBADF;
	file = fget(args.fd);
	if (!file)
		return -EBADF;
	/* A device file would hold its own session alive: a leak cycle. */
	if (file->f_op == &wk_fops) {
		fput(file);
		return -EINVAL;
	}
	spin_lock(&obj->lock);
	old = obj->file;
	obj->file = file;
	spin_unlock(&obj->lock);
	if (old)
		fput(old);
	return 0;
}

static int wk_ioctl_get_file(struct wk_session *sess, struct wk_handle *h,
			     void __user *argp)
{
	struct winekernel_get_file_args args;
	struct wk_object *obj = h->obj;
	struct file *file;
	int fd, ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags || args.__pad)
		return -EINVAL;
	ret = wk_object_access(obj, sess->cred, WK_RIGHT_GET_FILE);
	if (ret)
		return ret;
	spin_lock(&obj->lock);
	file = obj->file;
	if (file)
		get_file(file);
	spin_unlock(&obj->lock);
	if (!file)
		return -ENOENT;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_put_file;
	}
	args.fd = fd;
	if (copy_to_user(argp, &args, sizeof(args))) {
		ret = -EFAULT;
		goto err_put_fd;
	}
	/* Published last: nothing can fail after this. */
	fd_install(fd, file);
	return 0;

err_put_fd:
	put_unused_fd(fd);
err_put_file:
	fput(file);
	return ret;
}

/* Appends one NUL-terminated name to the listing buffer. */
static void wk_list_put(char *out, u64 *pos, const char *name, u32 len)
{
	memcpy(out + *pos, name, len);
	out[*pos + len] = '\0';
	*pos += len + 1;
}

static int wk_ioctl_list(struct wk_session *sess, void __user *argp)
{
	struct winekernel_list_args args;
	struct wk_instance *inst = sess->inst;
	char ns_name[WK_NAMESPACE_MAX];
	u64 needed = 0, count = 0, idx = 0, pos = 0;
	char *out = NULL;
	struct rb_node *n;
	int ret = 0;
	u32 i;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~WK_LIST_FLAGS_MASK)
		return -EINVAL;
	args.count = 0;
	if (args.flags & WK_LIST_NAMESPACES) {
		if (args.namespace_len || args.namespace_)
			return -EINVAL;
	} else {
		if (!args.namespace_len || args.namespace_len > WK_NAMESPACE_MAX)
			return -EINVAL;
		if (copy_from_user(ns_name, u64_to_user_ptr(args.namespace_),
				   args.namespace_len))
			return -EFAULT;
		for (i = 0; i < args.namespace_len; i++)
			if (!wk_namespace_char_ok(ns_name[i]))
				return -EINVAL;
	}

	mutex_lock(&inst->lock);
	/* Pass 1 measures, pass 2 (only if it all fits) copies. */
	if (args.flags & WK_LIST_NAMESPACES) {
		n = rb_first(&inst->namespaces);
	} else {
		struct wk_namespace *ns = wk_ns_find(inst, ns_name,
						     args.namespace_len);

		n = ns ? rb_first(&ns->names) : NULL;
	}
	for (; n; n = rb_next(n), idx++) {
		if (idx < args.start)
			continue;
		if (args.flags & WK_LIST_NAMESPACES) {
			needed += rb_entry(n, struct wk_namespace, node)->len + 1;
		} else {
			struct wk_object *obj = rb_entry(n, struct wk_object, ns_node);

			needed += obj->name_len - obj->ns_len;
		}
		count++;
	}
	args.bytes_needed = needed;
	if (needed > args.buf_size) {
		ret = -ERANGE;
		goto out_unlock;
	}
	if (needed > WK_LIST_MAX_BYTES) {
		ret = -E2BIG;
		goto out_unlock;
	}
	if (needed) {
		out = kvmalloc(needed, WK_GFP);
		if (!out) {
			ret = -ENOMEM;
			goto out_unlock;
		}
	}
	idx = 0;
	if (args.flags & WK_LIST_NAMESPACES) {
		n = rb_first(&inst->namespaces);
	} else {
		struct wk_namespace *ns = wk_ns_find(inst, ns_name,
						     args.namespace_len);

		n = ns ? rb_first(&ns->names) : NULL;
	}
	for (; n && needed; n = rb_next(n), idx++) {
		if (idx < args.start)
			continue;
		if (args.flags & WK_LIST_NAMESPACES) {
			struct wk_namespace *ns = rb_entry(n, struct wk_namespace, node);

			wk_list_put(out, &pos, ns->name, ns->len);
		} else {
			struct wk_object *obj = rb_entry(n, struct wk_object, ns_node);

			wk_list_put(out, &pos, obj->name + obj->ns_len + 1,
				    obj->name_len - obj->ns_len - 1);
		}
	}
out_unlock:
	mutex_unlock(&inst->lock);

	if (!ret && needed &&
	    copy_to_user(u64_to_user_ptr(args.buf), out, needed))
		ret = -EFAULT;
	kvfree(out);
	if (ret && ret != -ERANGE)
		return ret;
	if (!ret)
		args.count = count;
	if (copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return ret;
}

static int wk_ioctl_register_server(struct wk_session *sess, void __user *argp)
{
	struct winekernel_register_server_args args;
	struct wk_instance *inst = sess->inst;
	int ret = 0;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags || args.__pad)
		return -EINVAL;
	mutex_lock(&inst->lock);
	if (inst->server && inst->server != sess)
		ret = -EBUSY;
	else
		inst->server = sess;
	mutex_unlock(&inst->lock);
	return ret;
}

static int wk_ioctl_read_events(struct wk_session *sess, void __user *argp)
{
	struct winekernel_read_events_args args;
	struct winekernel_event *out;
	struct wk_event_node *ev, *tmp;
	LIST_HEAD(taken);
	u32 count = 0;
	int ret = 0;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (!args.max || args.max > WK_READ_EVENTS_MAX)
		return -EINVAL;
	out = kvmalloc_array(args.max, sizeof(*out), WK_GFP);
	if (!out)
		return -ENOMEM;

	spin_lock(&sess->event_lock);
	list_for_each_entry_safe(ev, tmp, &sess->events, node) {
		if (count == args.max)
			break;
		out[count++] = ev->event;
		list_move_tail(&ev->node, &taken);
	}
	spin_unlock(&sess->event_lock);

	if (count && copy_to_user(u64_to_user_ptr(args.events), out,
				  count * sizeof(*out))) {
		/* Nothing was delivered: put them back in front, in order. */
		spin_lock(&sess->event_lock);
		list_splice(&taken, &sess->events);
		spin_unlock(&sess->event_lock);
		ret = -EFAULT;
		goto out_free;
	}
	list_for_each_entry_safe(ev, tmp, &taken, node)
		kfree(ev);
	args.count = count;
	if (copy_to_user(argp, &args, sizeof(args)))
		ret = -EFAULT;
out_free:
	kvfree(out);
	return ret;
}

/* The handle an ioctl's args start with, for the handle-based calls. */
static int wk_arg_handle(unsigned int cmd, void __user *argp, u32 *id)
{
	size_t off;

	switch (cmd) {
	case WK_IOC_UNLINK:
		off = offsetof(struct winekernel_unlink_args, handle);
		break;
	case WK_IOC_GETNAME:
		off = offsetof(struct winekernel_getname_args, handle);
		break;
	case WK_IOC_SIZE:
		off = offsetof(struct winekernel_size_args, handle);
		break;
	case WK_IOC_GETDATA:
		off = offsetof(struct winekernel_getdata_args, handle);
		break;
	case WK_IOC_SETDATA:
		off = offsetof(struct winekernel_setdata_args, handle);
		break;
	case WK_IOC_LOCK:
		off = offsetof(struct winekernel_lock_args, handle);
		break;
	case WK_IOC_UNLOCK:
		off = offsetof(struct winekernel_unlock_args, handle);
		break;
	case WK_IOC_SETACL:
	case WK_IOC_GETACL:
		off = offsetof(struct winekernel_acl_args, handle);
		break;
	case WK_IOC_ATTACH_FILE:
		off = offsetof(struct winekernel_attach_file_args, handle);
		break;
	case WK_IOC_GET_FILE:
		off = offsetof(struct winekernel_get_file_args, handle);
		break;
	default:
		return -ENOTTY;
	}
	if (get_user(*id, (u32 __user *)((u8 __user *)argp + off)))
		return -EFAULT;
	return 0;
}

static long wk_ioctl_handle(struct wk_session *sess, unsigned int cmd,
			    void __user *argp)
{
	struct wk_handle *h;
	long ret;
	u32 id;

	ret = wk_arg_handle(cmd, argp, &id);
	if (ret)
		return ret;
	h = wk_handle_get(sess, id);
	if (!h)
		return -EBADF;
	switch (cmd) {
	case WK_IOC_UNLINK:
		ret = wk_ioctl_unlink(sess, h, argp);
		break;
	case WK_IOC_GETNAME:
		ret = wk_ioctl_getname(h, argp);
		break;
	case WK_IOC_SIZE:
		ret = wk_ioctl_size(sess, h, argp);
		break;
	case WK_IOC_GETDATA:
		ret = wk_ioctl_getdata(sess, h, argp);
		break;
	case WK_IOC_SETDATA:
		ret = wk_ioctl_setdata(sess, h, argp);
		break;
	case WK_IOC_LOCK:
		ret = wk_ioctl_lock(sess, h, argp);
		break;
	case WK_IOC_UNLOCK:
		ret = wk_ioctl_unlock(h, argp);
		break;
	case WK_IOC_SETACL:
		ret = wk_ioctl_setacl(sess, h, argp);
		break;
	case WK_IOC_GETACL:
		ret = wk_ioctl_getacl(sess, h, argp);
		break;
	case WK_IOC_ATTACH_FILE:
		ret = wk_ioctl_attach_file(sess, h, argp);
		break;
	case WK_IOC_GET_FILE:
		ret = wk_ioctl_get_file(sess, h, argp);
		break;
	default:
		ret = -ENOTTY;
	}
	wk_handle_put(h);
	return ret;
}

static long wk_ioctl(struct file *file, unsigned int cmd, unsigned long parm)
{
	struct wk_session *sess = file->private_data;
	void __user *argp = (void __user *)parm;

	switch (cmd) {
	case WK_IOC_NOP:
		return 0;
	case WK_IOC_STATS:
		return wk_ioctl_stats(sess, argp);
	case WK_IOC_ATTACH:
		return wk_ioctl_attach(sess, argp);
	case WK_IOC_INSTANCE_SETACL:
	case WK_IOC_CREATE:
	case WK_IOC_OPEN:
	case WK_IOC_CLOSE:
	case WK_IOC_UNLINK:
	case WK_IOC_GETNAME:
	case WK_IOC_SIZE:
	case WK_IOC_GETDATA:
	case WK_IOC_SETDATA:
	case WK_IOC_LOCK:
	case WK_IOC_UNLOCK:
	case WK_IOC_SETACL:
	case WK_IOC_GETACL:
	case WK_IOC_ATTACH_FILE:
	case WK_IOC_GET_FILE:
	case WK_IOC_LIST:
	case WK_IOC_REGISTER_SERVER:
	case WK_IOC_READ_EVENTS:
		break;
	default:
		return -ENOTTY;
	}
	/* Pairs with the release in wk_ioctl_attach. */
	if (!smp_load_acquire(&sess->inst))
		return -ENOTCONN;

	switch (cmd) {
	case WK_IOC_INSTANCE_SETACL:
		return wk_ioctl_instance_setacl(sess, argp);
	case WK_IOC_CREATE:
		return wk_ioctl_create(sess, argp);
	case WK_IOC_OPEN:
		return wk_ioctl_open(sess, argp);
	case WK_IOC_CLOSE:
		return wk_ioctl_close(sess, argp);
	case WK_IOC_LIST:
		return wk_ioctl_list(sess, argp);
	case WK_IOC_REGISTER_SERVER:
		return wk_ioctl_register_server(sess, argp);
	case WK_IOC_READ_EVENTS:
		return wk_ioctl_read_events(sess, argp);
	default:
		return wk_ioctl_handle(sess, cmd, argp);
	}
}

static const struct file_operations wk_fops = {
	.owner		= THIS_MODULE,
	.open		= wk_open,
	.release	= wk_release,
	.unlocked_ioctl	= wk_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.poll		= wk_poll,
	.llseek		= no_llseek,
};

static struct miscdevice wk_misc = {
	.minor		= MISC_DYNAMIC_MINOR,
	.name		= "winekernel",
	.fops		= &wk_fops,
	.mode		= 0666,
};

static void wk_free_orphan_object(void *ptr, void *arg)
{
	struct wk_object *obj = ptr;

	if (obj->linked)
		rb_erase(&obj->ns_node, &obj->ns->names);
	wk_object_free(obj);
}

static int __init wk_init(void)
{
	return misc_register(&wk_misc);
}

static void __exit wk_exit(void)
{
	struct wk_instance *inst, *tmp;

	misc_deregister(&wk_misc);
	/*
	 * No file is open any more, so what is left are instances kept by
	 * permanent objects alone (no handles, no waiters).
	 */
	list_for_each_entry_safe(inst, tmp, &wk_instances, node) {
		struct rb_node *n;

		rhashtable_free_and_destroy(&inst->names, wk_free_orphan_object,
					    NULL);
		while ((n = rb_first(&inst->namespaces))) {
			rb_erase(n, &inst->namespaces);
			kfree(rb_entry(n, struct wk_namespace, node));
		}
		list_del(&inst->node);
		xa_destroy(&inst->sessions);
		wk_acl_free(inst->acl);
		kfree(inst);
	}
}

module_init(wk_init);
module_exit(wk_exit);

MODULE_AUTHOR("winekernel project");
MODULE_DESCRIPTION("Named-object primitives for Wine");
MODULE_LICENSE("GPL");
MODULE_ALIAS("devname:winekernel");
