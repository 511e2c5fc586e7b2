/** The `docker` builder's settings: Packer's names and meanings. */
import { z } from '../../src/sdk/index.js';
import { checkChanges } from '../../src/sdk/oci.js';
import { DEFAULT_RUN_COMMAND, parseRunCommand } from './run-command.js';

export const schema = z
  .object({
    image: z.string().min(1, 'image must name the base image, e.g. "debian:bookworm"'),
    pull: z.boolean().default(true),
    commit: z.boolean().default(false),
    discard: z.boolean().default(false),
    export_path: z.string().optional(),
    changes: z.array(z.string()).default([]),
    run_command: z.array(z.string()).default(DEFAULT_RUN_COMMAND),
    volumes: z.record(z.string(), z.string()).default({}),
    privileged: z.boolean().default(false),
    platform: z.string().optional(),
    author: z.string().optional(),
    message: z.string().optional(),
    /** Accepted for Packer templates; kiln copies files through the archive API, not a mounted folder. */
    container_dir: z.string().default('/packer-files'),
    exec_user: z.string().optional(),
    fix_upload_owner: z.boolean().default(true),
    cap_add: z.array(z.string()).default([]),
    cap_drop: z.array(z.string()).default([]),
    tmpfs: z.array(z.string()).default([]),
    device: z.array(z.string()).default([]),
    login: z.boolean().default(false),
    login_server: z.string().optional(),
    login_username: z.string().optional(),
    login_password: z.string().optional(),
    ecr_login: z.boolean().default(false),
    windows_container: z.boolean().default(false),
  })
  .strict()
  .superRefine((c, ctx) => {
    const outputs = [c.commit, c.discard, c.export_path !== undefined].filter(Boolean).length;
    if (outputs !== 1) ctx.addIssue({ code: 'custom', message: 'exactly one of commit, discard or export_path must be set (Packer\'s rule)' });
    if (c.changes.length > 0 && !c.commit) ctx.addIssue({ code: 'custom', path: ['changes'], message: 'changes only apply with commit = true' });
    checkChanges(c.changes).forEach((m, i) => ctx.addIssue({ code: 'custom', path: ['changes', i], message: m }));
    try {
      parseRunCommand(c.run_command, c.image);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['run_command'], message: (err as Error).message });
    }
    if (c.login && (!c.login_username || c.login_password === undefined)) ctx.addIssue({ code: 'custom', path: ['login'], message: 'login = true needs login_username and login_password' });
    if (c.ecr_login) ctx.addIssue({ code: 'custom', path: ['ecr_login'], message: 'ecr_login is not supported by kiln yet: log in with login_username/login_password (an ECR token from aws ecr get-login-password)' });
    if (c.windows_container) ctx.addIssue({ code: 'custom', path: ['windows_container'], message: 'Windows containers are not supported by kiln' });
  });

export type DockerBuilderConfig = z.output<typeof schema>;
