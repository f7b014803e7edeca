/* Structured logging to stderr: one line per event, "level module: message". */
#ifndef NFS4D_UTIL_LOG_H
#define NFS4D_UTIL_LOG_H

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* The threshold is set once at start (main) before threads exist. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_msg(enum log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(mod, ...) log_msg(LOG_ERR, mod, __VA_ARGS__)
#define log_warn(mod, ...) log_msg(LOG_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...) log_msg(LOG_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...)                                   \
	do {                                                  \
		if (log_get_level() >= LOG_DEBUG)             \
			log_msg(LOG_DEBUG, mod, __VA_ARGS__); \
	} while (0)

#endif
