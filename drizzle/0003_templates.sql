ALTER TABLE `users` ADD `template` text;--> statement-breakpoint
ALTER TABLE `users` ADD `allowed_templates` text;