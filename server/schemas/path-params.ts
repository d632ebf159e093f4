/** The path parameters of the API's routes, as the routes parse them and the description states them. */
import { z } from 'zod';
import { clusterNameSchema, teamNameSchema } from '../../src/domain/cluster.js';

export const clusterNameParam = z.strictObject({ name: clusterNameSchema });
export const operationIdParam = z.strictObject({ id: z.uuid() });
export const webhookIdParam = z.strictObject({ id: z.uuid() });
export const sweepIdParam = z.strictObject({ id: z.uuid() });
export const rolloutIdParam = z.strictObject({ id: z.uuid() });
export const teamParam = z.strictObject({ team: teamNameSchema });
export const tokenIdParam = z.strictObject({ id: z.uuid() });
