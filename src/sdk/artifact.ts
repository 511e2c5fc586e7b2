/**
 * An artifact: what a builder or post-processor produced. Its shape follows Packer's so the
 * manifest post-processor and `-machine-readable` output can list it the way Packer does.
 */
export interface Artifact {
  /** Identifies the plugin that made it, e.g. `kiln.file`, `kiln.post-processor.compress`. */
  builderId: string;
  /** The artifact's id: an AMI id, an image digest, a file path… ("" when there is none). */
  id: string;
  files: string[];
  /** One line for people: what was built and where. */
  description: string;
  /** Values later post-processors may read (e.g. `generated_data`, image digests). */
  state: Record<string, unknown>;
  /** Removes what the artifact holds; called when no chain keeps it. */
  destroy?(): Promise<void>;
}
