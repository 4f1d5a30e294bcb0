/*===- report.h - the JSON reports' schema version -------------------------===*
 *
 * Part of the Microscale project.
 *
 * Every object `microscale` and a generated program print for --json has
 * "schema_version" (this number), and a key means the same wherever it
 * appears: prompt_tokens, gen_tokens, prefill_tokens_per_s,
 * decode_tokens_per_s (medians; bench adds _min and _max), tokens and ids
 * (tokenize), tokens, nll, ppl, windows, ctx (perplexity), ids and text
 * (run, generate), and the ms_model fields by their model_info.def names
 * (info, import --summary, compile). The number changes when a key changes
 * meaning or disappears; new keys do not change it.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MICROSCALE_REPORT_H
#define MICROSCALE_REPORT_H

#define MS_REPORT_SCHEMA_VERSION 1

#endif /* MICROSCALE_REPORT_H */
