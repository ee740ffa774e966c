"""`tend simulate`: the whole loop on synthetic customers, driven through the services of
intake, tickets and tasks as the scheduler, approvers and adapters would call them. Its own
package, after the flow it drives: evaluation cannot hold it, since tickets import evaluation."""
