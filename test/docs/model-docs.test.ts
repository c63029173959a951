/** The capability sections of the model docs are what the models advertise (scripts/gen-model-docs.ts), for every served model. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { documentedModels, renderCapabilities, renderModelDocs } from '../../scripts/gen-model-docs.js';

describe('generated model docs', () => {
  it('are up to date (run npm run gen:model-docs)', async () => {
    const { files } = await renderModelDocs();
    expect(files.size).toBeGreaterThan(0);
    for (const [path, text] of files) expect(readFileSync(path, 'utf8'), path).toBe(text);
  });

  it('cover every in-tree model', async () => {
    const { covered, models } = await renderModelDocs();
    expect(models).toEqual(expect.arrayContaining(['procedural', 'saymotion', 'meshy']));
    expect([...covered].sort()).toEqual([...models].sort());
  });

  it('say what the capabilities say, field by field', async () => {
    const procedural = (await documentedModels()).find((m) => m.id === 'procedural')!;
    const text = renderCapabilities(procedural);
    expect(text).toContain('| `supports_retargeting` | yes:');
    expect(text).toContain(`| \`supported_constraints\` | ${procedural.supported_constraints.map((c) => `\`${c}\``).join(', ')} |`);
    // A model that could not retarget or took no constraints would read so.
    const bare = renderCapabilities({ ...procedural, supports_retargeting: false, supported_constraints: [] });
    expect(bare).toContain('| `supports_retargeting` | no:');
    expect(bare).toContain('| `supported_constraints` | none |');
  });
});
