/**
 * Device-neutral bookkeeping of the paged KV cache: which blocks of the executor's cache each sequence
 * owns ({@link io.batchllm.engine.kv.KvSequence}'s block table), which are free, and which hold a prompt
 * prefix that later sequences can share ({@link io.batchllm.engine.kv.KvBlockPool}). The blocks'
 * storage lives on the device ({@link io.batchllm.engine.model.DeviceExecutor#allocateKvCache}); nothing
 * here touches it.
 */
package io.batchllm.engine.kv;
