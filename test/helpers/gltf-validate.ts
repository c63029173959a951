/** Runs the Khronos glTF validator on GLB or JSON glTF bytes and sorts its findings by severity. */
import { createRequire } from 'node:module';

/** One finding of the validator (severity 0 error, 1 warning, 2 info, 3 hint). */
export interface GltfIssue {
  code: string;
  message: string;
  severity: number;
  pointer?: string;
  offset?: number;
}

export interface GltfValidation {
  errors: GltfIssue[];
  warnings: GltfIssue[];
  /** Every finding, errors and warnings included. */
  messages: GltfIssue[];
}

interface ValidatorModule {
  validateBytes(
    data: Uint8Array,
    options?: { format?: 'glb' | 'gltf'; maxIssues?: number; writeTimestamp?: boolean; uri?: string },
  ): Promise<{ issues: { messages: GltfIssue[] } }>;
}

// The validator ships as CommonJS without type declarations.
const validator = createRequire(import.meta.url)('gltf-validator') as ValidatorModule;

/** Validates a document; `kind` skips format sniffing. Rejects only when the bytes are not glTF at all. */
export async function validateGltf(bytes: Uint8Array, kind: 'glb' | 'json'): Promise<GltfValidation> {
  const report = await validator.validateBytes(bytes, {
    format: kind === 'glb' ? 'glb' : 'gltf',
    maxIssues: 0,
    writeTimestamp: false,
  });
  const messages = report.issues.messages;
  return {
    errors: messages.filter((m) => m.severity === 0),
    warnings: messages.filter((m) => m.severity === 1),
    messages,
  };
}
