// Placeholder: the SE protocol routes (docs/engine-protocol.md) replace this.
import type { RegisterEngineRoutes } from './host.js';

export const registerEngineRoutes: RegisterEngineRoutes = async () => {};
