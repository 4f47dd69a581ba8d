// Placeholder until the L7 proxy lands (the L7 engineer replaces this file).
import type { CreateL7Listener } from '../contracts.js';

export const createL7Listener: CreateL7Listener = () => {
  throw new Error('L7 not built yet');
};
