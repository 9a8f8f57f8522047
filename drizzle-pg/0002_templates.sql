ALTER TABLE "users" ADD COLUMN "template" text;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "allowed_templates" jsonb;