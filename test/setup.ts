/** Per test file: the shared worker pool is closed after the file's tests. */
import { afterAll } from 'vitest';
import { closeSharedWorkers } from './helpers/workers.js';

afterAll(() => closeSharedWorkers());
