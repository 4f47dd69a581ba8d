// API errors: thrown anywhere in the write path, turned into `{"error": message}` with the status.
export class ApiError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}
export const badRequest = (msg: string) => new ApiError(400, msg);
export const notFound = (msg: string) => new ApiError(404, msg);
export const conflict = (msg: string) => new ApiError(409, msg);
export const forbidden = (msg: string) => new ApiError(403, msg);
