/** A request that failed; `code` says why (see {@link GatewayErrorCode}). */
export class GatewayError extends Error {
    code;
    constructor(code, message) {
        super(message);
        this.name = 'GatewayError';
        this.code = code;
    }
}
