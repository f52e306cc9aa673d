package io.batchllm;

/** No such object (or not visible to the caller); 404. */
public class NotFoundException extends BatchException {
    public NotFoundException(String param, String message) {
        super(404, "invalid_request_error", null, param, message);
    }

    /** "No such File object: file-…", as OpenAI says it. */
    public static NotFoundException file(String id) {
        return new NotFoundException("id", "No such File object: " + id);
    }

    /** "No such Batch object: batch_…". */
    public static NotFoundException batch(String id) {
        return new NotFoundException("id", "No such Batch object: " + id);
    }
}
