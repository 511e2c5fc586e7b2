/**
 * Which JSON object keys are blocks (and how many labels they take) in Packer's HCL JSON syntax.
 * JSON cannot tell a block from an object-valued argument by itself; HCL decodes it by schema.
 */
import type { JsonBodySchema } from './json.js';

const STEP: JsonBodySchema = {};

export const PACKER_JSON_SCHEMA: JsonBodySchema = {
  blocks: {
    packer: { labels: 0, body: { blocks: { required_plugins: { labels: 0 } } } },
    variable: { labels: 1, body: { blocks: { validation: { labels: 0 } } } },
    variables: { labels: 0 },
    locals: { labels: 0 },
    local: { labels: 1 },
    source: { labels: 2 },
    data: { labels: 2 },
    build: {
      labels: 0,
      body: {
        blocks: {
          source: { labels: 1 },
          provisioner: { labels: 1, body: STEP },
          'error-cleanup-provisioner': { labels: 1, body: STEP },
          'post-processor': { labels: 1, body: STEP },
          'post-processors': { labels: 0, body: { blocks: { 'post-processor': { labels: 1, body: STEP } } } },
        },
      },
    },
  },
};
