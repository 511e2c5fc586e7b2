/** CreateTags, DeleteTags, DescribeTags: on any resource of the region, by id. */
import type { Handler } from './context.js';
import { Ec2Error, missingParameter } from './errors.js';
import { applyFilters } from './filters.js';
import { filters, tagList } from './query.js';
import { findTaggable, resourceType } from './state.js';

const NOT_FOUND_CODES: Record<string, string> = {
  instance: 'InvalidInstanceID.NotFound',
  image: 'InvalidAMIID.NotFound',
  snapshot: 'InvalidSnapshot.NotFound',
  'security-group': 'InvalidGroup.NotFound',
  'key-pair': 'InvalidKeyPair.NotFound',
  volume: 'InvalidVolume.NotFound',
  vpc: 'InvalidVpcID.NotFound',
  subnet: 'InvalidSubnetID.NotFound',
};

export const tagActions: Record<string, Handler> = {
  CreateTags(ctx, p) {
    const ids = p.list('ResourceId');
    if (ids.length === 0) throw missingParameter('ResourceId');
    const tags = tagList(p);
    const resources = ids.map((id) => {
      const r = findTaggable(ctx.region, id);
      if (!r) {
        const code = NOT_FOUND_CODES[resourceType(id)];
        throw code ? new Ec2Error(code, `The ID '${id}' does not exist`) : new Ec2Error('InvalidID', `The ID '${id}' is not valid`);
      }
      return r;
    });
    for (const r of resources) {
      Object.assign(r.tags, tags);
      if (Object.keys(r.tags).length > 50) throw new Ec2Error('TagLimitExceeded', `The maximum number of Tags for a resource has been reached.`);
    }
    return { return: true };
  },

  DeleteTags(ctx, p) {
    const ids = p.list('ResourceId');
    if (ids.length === 0) throw missingParameter('ResourceId');
    const specs = p.structs('Tag').map((t) => ({ key: t.required('Key'), value: t.str('Value') }));
    for (const id of ids) {
      const r = findTaggable(ctx.region, id);
      if (!r) continue;
      if (specs.length === 0) {
        for (const k of Object.keys(r.tags)) if (!k.startsWith('aws:')) delete r.tags[k];
      }
      // A tag given with a value goes only if the value matches.
      for (const s of specs) if (s.value === undefined || r.tags[s.key] === s.value) delete r.tags[s.key];
    }
    return { return: true };
  },

  DescribeTags(ctx, p) {
    const r = ctx.region;
    const resources = [...r.instances.values(), ...r.images.values(), ...r.snapshots.values(), ...r.securityGroups.values(), ...r.keyPairs.values(), ...[...r.instances.values()].flatMap((i) => i.volumes), r.vpc, ...r.subnets];
    const rows = resources.flatMap((res) => Object.entries(res.tags).map(([key, value]) => ({ resourceId: res.id, resourceType: resourceType(res.id), key, value, tags: { [key]: value } })));
    const picked = applyFilters(rows, filters(p), {
      'resource-id': (t) => [t.resourceId],
      'resource-type': (t) => [t.resourceType],
      key: (t) => [t.key],
      value: (t) => [t.value],
    });
    return { tagSet: picked.map((t) => ({ resourceId: t.resourceId, resourceType: t.resourceType, key: t.key, value: t.value })) };
  },
};
